import { type DeadLetter, jobTenant } from '@atelier/shared';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { maskString } from '../mask-secrets.ts';
import { html } from '../safe-html.ts';
import { formatTime, prettyJson } from './formatting.ts';
import { layout, postButton } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** `/admin/dead-letters/:id`: why the job ended here, its story and request, Replay / Delete. */
export function deadLetterPage(ctx: PageContext, d: DeadLetter): string {
  const base = `${ADMIN_PATHS.deadLetters}/${encodeURIComponent(d.id)}`;
  const history = d.history.map(
    (h) =>
      html`<tr><td class="num">${h.attempt}</td><td>${formatTime(h.at)}</td><td><code>${h.code}</code></td><td>${maskString(h.message)}</td></tr>`,
  );
  const batch =
    d.meta.batchId !== undefined
      ? html`<dt>batch</dt><dd><code>${d.meta.batchId}</code> item ${d.meta.batchIndex ?? '?'}</dd>`
      : '';
  return layout(
    ctx,
    `Dead letter ${d.id}`,
    html`<section id="dead-letter" data-id="${d.id}">
<dl class="facts">
  <dt>job</dt><dd><code>${d.id}</code> (${d.kind}, queue <a href="${ADMIN_PATHS.queues}/queue/${encodeURIComponent(d.queue)}/${encodeURIComponent(d.id)}">${d.queue}</a>)</dd>
  <dt>tenant</dt><dd id="dead-tenant">${jobTenant(d.meta)}</dd>
  <dt>code</dt><dd><code id="dead-code">${d.code}</code></dd>
  <dt>message</dt><dd>${maskString(d.message)}</dd>
  <dt>provider message</dt><dd>${d.providerMessage !== undefined ? maskString(d.providerMessage) : '—'}</dd>
  ${d.providerEnglishMessage !== undefined ? html`<dt>provider message (English)</dt><dd>${maskString(d.providerEnglishMessage)}</dd>` : ''}
  <dt>taskId</dt><dd>${d.taskId ? html`<code>${d.taskId}</code> (a replay polls this task, never submits again)` : d.code === 'SUBMIT_UNCONFIRMED' ? html`— <span class="badge bad" id="unconfirmed-submit">a submit's outcome was lost: the provider may have billed a task; check it before replaying (a replay submits once more)</span>` : '—'}</dd>
  <dt>attempts</dt><dd>${d.attempts}</dd>
  <dt>failed at</dt><dd>${formatTime(d.failedAt)}</dd>
  <dt>replays so far</dt><dd>${d.meta.replays ?? 0}</dd>
  ${batch}
  <dt>callback</dt><dd>${d.meta.callbackUrl ? html`<code>${maskString(d.meta.callbackUrl)}</code>` : '—'}</dd>
</dl>
<div class="actions">
  ${postButton(ctx, `${base}/replay`, 'Replay')}
  ${postButton(ctx, `${base}/delete`, 'Delete', { danger: true, confirm: 'delete for good' })}
</div>
<h2>Attempt history</h2>
${d.history.length > 0 ? html`<table><thead><tr><th class="num">attempt</th><th>at</th><th>code</th><th>message</th></tr></thead><tbody>${history}</tbody></table>` : html`<p class="muted">No attempts recorded.</p>`}
<h2>Request</h2>
<pre id="dead-request">${prettyJson(d.request)}</pre>
<h2>Meta</h2>
<pre>${prettyJson(d.meta)}</pre>
</section>`,
  );
}
