import { isTerminalState, type JobStatus } from '../../lib/job-status.ts';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { maskString } from '../mask-secrets.ts';
import { html } from '../safe-html.ts';
import { prettyJson } from './formatting.ts';
import { layout } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** `/admin/jobs/:id`: where a job is (reloads itself until it is completed or dead). */
export function jobPage(ctx: PageContext, job: JobStatus): string {
  const final = isTerminalState(job.state);
  const badge = job.state === 'completed' ? 'ok' : job.state === 'dead' ? 'bad' : 'warn';
  return layout(
    { ...ctx, refreshSec: final ? 0 : 2 },
    `Job ${job.id}`,
    html`<section id="job" data-job-state="${job.state}">
<dl class="facts">
  <dt>state</dt><dd><span class="badge ${badge}" id="job-state">${job.state}</span>${final ? '' : html` <span class="muted">(this page reloads until the job ends)</span>`}</dd>
  <dt>kind</dt><dd>${job.kind}</dd>
  <dt>attempts</dt><dd>${job.attempts}</dd>
  ${job.error ? html`<dt>error</dt><dd><code>${job.error.code}</code> ${maskString(job.error.message)}</dd>` : ''}
</dl>
${job.state === 'dead' ? html`<p><a href="${ADMIN_PATHS.deadLetters}/${encodeURIComponent(job.id)}">Open the dead letter</a></p>` : ''}
${job.result !== undefined ? html`<h2>Result</h2><pre id="job-result">${prettyJson(job.result)}</pre>` : ''}
<p><a href="${ADMIN_PATHS.queues}/queue/${encodeURIComponent(job.kind)}/${encodeURIComponent(job.id)}">This job in bull-board</a></p>
</section>`,
  );
}
