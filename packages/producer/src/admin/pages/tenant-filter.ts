import { html, type SafeHtml } from '../safe-html.ts';

/**
 * The tenant filter of a dashboard page: a link per tenant the API's keys name (and the one
 * chosen, if it is another), and `all`; `href` builds the page's URL for a tenant (undefined:
 * every tenant). The chosen one is marked.
 */
export function tenantFilter(
  tenants: readonly string[],
  chosen: string | undefined,
  href: (tenant: string | undefined) => string,
): SafeHtml {
  const names = chosen !== undefined && !tenants.includes(chosen) ? [...tenants, chosen] : tenants;
  const link = (tenant: string | undefined, label: string) =>
    tenant === chosen
      ? html`<strong data-tenant-choice="${label}" aria-current="page">${label}</strong>`
      : html`<a data-tenant-choice="${label}" href="${href(tenant)}">${label}</a>`;
  return html`<nav id="tenant-filter" class="actions">tenant: ${link(undefined, 'all')} ${names.map(
    (t) => html`· ${link(t, t)} `,
  )}</nav>`;
}
