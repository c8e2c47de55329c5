import { jobTenant } from '@atelier/shared';
import type { DeadLetterFilter, DeadLetterPage } from '@atelier/store';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { maskString } from '../mask-secrets.ts';
import { html } from '../safe-html.ts';
import { formatAgo } from './formatting.ts';
import { layout, postButton } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { tenantFilter } from './tenant-filter.ts';

/** `/admin/dead-letters`: newest first, filtered by queue, code, batch or tenant, paged. */
export function deadLettersPage(
  ctx: PageContext,
  page: DeadLetterPage,
  filter: DeadLetterFilter,
  paging: { offset: number; limit: number },
  tenants: readonly string[],
): string {
  const rows = page.items.map(
    (d) => html`<tr data-dead-letter="${d.id}">
  <td><a href="${ADMIN_PATHS.deadLetters}/${encodeURIComponent(d.id)}"><code>${d.id}</code></a></td>
  <td data-tenant="${jobTenant(d.meta)}">${jobTenant(d.meta)}</td>
  <td>${d.queue}</td>
  <td><code>${d.code}</code></td>
  <td>${maskString(d.message)}</td>
  <td class="num">${d.attempts}</td>
  <td>${formatAgo(d.failedAt, ctx.now)}</td>
</tr>`,
  );
  /** This page at `offset`; `tenants` given: with that tenant instead (undefined: any). */
  const query = (offset: number, tenants?: { tenant: string | undefined }) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filter, ...tenants })) {
      if (v !== undefined) params.set(k, String(v));
    }
    if (offset > 0) params.set('offset', String(offset));
    const search = params.toString();
    return search === '' ? ADMIN_PATHS.deadLetters : `${ADMIN_PATHS.deadLetters}?${search}`;
  };
  const prev =
    paging.offset > 0
      ? html`<a href="${query(Math.max(0, paging.offset - paging.limit))}">← newer</a>`
      : '';
  const next =
    paging.offset + paging.limit < page.total
      ? html`<a href="${query(paging.offset + paging.limit)}">older →</a>`
      : '';
  const filtered = Object.entries(filter).filter(([, v]) => v !== undefined);
  const replayAll =
    filter.code !== undefined && page.total > 0
      ? postButton(
          ctx,
          `${ADMIN_PATHS.deadLetters}/replay`,
          `Replay all ${page.total} with code ${filter.code}`,
          {
            fields: { code: filter.code },
            confirm: 'all of them',
          },
        )
      : '';
  const body =
    page.items.length > 0
      ? html`<table><thead><tr><th>job</th><th>tenant</th><th>queue</th><th>code</th><th>message</th><th class="num">attempts</th><th>failed</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p class="muted" id="no-dead-letters">No dead letters${filtered.length > 0 ? ' match this filter' : ''}.</p>`;
  return layout(
    ctx,
    'Dead letters',
    html`<section>
${tenantFilter(tenants, filter.tenant, (tenant) => query(0, { tenant }))}
<form method="get" action="${ADMIN_PATHS.deadLetters}" class="actions">
  <label>queue <select name="queue"><option value="">any</option>${['drawing', 'cme'].map((q) => html`<option value="${q}" ${filter.queue === q ? 'selected' : ''}>${q}</option>`)}</select></label>
  <label>code <input name="code" size="14" value="${filter.code ?? ''}"></label>
  ${filter.batchId ? html`<input type="hidden" name="batchId" value="${filter.batchId}"> <span>batch <code>${filter.batchId}</code></span>` : ''}
  ${filter.tenant ? html`<input type="hidden" name="tenant" value="${filter.tenant}">` : ''}
  <button type="submit">Filter</button>
</form>
<p>${page.total} entr${page.total === 1 ? 'y' : 'ies'} ${replayAll}</p>
${body}
<p class="actions">${prev} ${next}</p>
</section>`,
  );
}
