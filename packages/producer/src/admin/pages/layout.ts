import { ADMIN_PATHS } from '../admin-paths.ts';
import { html, type SafeHtml } from '../safe-html.ts';
import type { PageContext } from './page-context.ts';
import { STYLES } from './styles.ts';

/** A hidden input carrying the CSRF token (every state-changing form has one). */
export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
}

/** A one-button form that POSTs to `action` (with the CSRF token). */
export function postButton(
  ctx: PageContext,
  action: string,
  label: string,
  options: { confirm?: string; danger?: boolean; fields?: Record<string, string> } = {},
): SafeHtml {
  const fields = Object.entries(options.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  // A required checkbox instead of a script: the browser refuses to submit until it is ticked.
  const confirm = options.confirm
    ? html`<label class="confirm"><input type="checkbox" name="confirm" value="yes" required> ${options.confirm}</label> `
    : '';
  return html`<form class="inline" method="post" action="${action}">${csrfField(ctx)}${fields}${confirm}<button type="submit" class="${options.danger ? 'danger' : ''}">${label}</button></form>`;
}

/**
 * The page around every dashboard view: navigation, SIMULATOR banner, notice, logout; `head`
 * adds stylesheets and scripts (files only: the CSP allows no inline script).
 */
export function layout(ctx: PageContext, title: string, body: SafeHtml, head?: SafeHtml): string {
  const refresh =
    ctx.refreshSec && ctx.refreshSec > 0
      ? html`<meta http-equiv="refresh" content="${ctx.refreshSec}">`
      : '';
  const nav = ctx.user
    ? html`<nav>
        <a href="${ADMIN_PATHS.base}">Overview</a>
        <a href="${ADMIN_PATHS.deadLetters}">Dead letters</a>
        <a href="${ADMIN_PATHS.queues}/">Queues (bull-board)</a>
        <form class="inline" method="post" action="${ADMIN_PATHS.logout}">${csrfField(ctx)}<button type="submit" class="link">Log out ${ctx.user}</button></form>
      </nav>`
    : '';
  const banner = ctx.simulator
    ? html`<div class="simulator" role="alert" id="simulator-banner"><strong>SIMULATOR</strong> — no provider credentials are configured: jobs run against Atelier's built-in fake drawing and CME providers. Nothing reaches the real APIs and nothing is billed.</div>`
    : '';
  const notice = ctx.notice ? html`<div class="notice" role="status">${ctx.notice}</div>` : '';
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${refresh}
<title>${title} · Atelier</title>
<style>${STYLES}</style>
${head ?? ''}
</head>
<body>
<header class="top"><a class="brand" href="${ADMIN_PATHS.base}">Atelier</a>${nav}</header>
${banner}
${notice}
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`}`;
}
