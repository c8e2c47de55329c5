import { tenantOfId } from '@atelier/shared';
import { isTerminalState, type JobStatus } from '../../lib/job-status.ts';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { maskString } from '../mask-secrets.ts';
import { html } from '../safe-html.ts';
import { formatTime, prettyJson } from './formatting.ts';
import { layout } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** How a drawing's submit stands, from its job data. */
export interface DrawingSubmit {
  taskId?: string;
  /** A submit started then and its outcome is not saved yet (or was lost). */
  intentAt?: number;
  /** Submits whose outcome was lost (the provider may have billed a task for each). */
  unconfirmed: number;
}

/** `/admin/jobs/:id`: where a job is (reloads itself until it is completed or dead). */
export function jobPage(ctx: PageContext, job: JobStatus, submit?: DrawingSubmit): string {
  const final = isTerminalState(job.state);
  const badge = job.state === 'completed' ? 'ok' : job.state === 'dead' ? 'bad' : 'warn';
  return layout(
    { ...ctx, refreshSec: final ? 0 : 2 },
    `Job ${job.id}`,
    html`<section id="job" data-job-state="${job.state}">
<dl class="facts">
  <dt>state</dt><dd><span class="badge ${badge}" id="job-state">${job.state}</span>${final ? '' : html` <span class="muted">(this page reloads until the job ends)</span>`}</dd>
  <dt>kind</dt><dd>${job.kind}</dd>
  <dt>tenant</dt><dd id="job-tenant">${tenantOfId(job.id) ?? '—'}</dd>
  <dt>attempts</dt><dd>${job.attempts}</dd>
  ${job.error ? html`<dt>error</dt><dd><code>${job.error.code}</code> ${maskString(job.error.message)}</dd>` : ''}
  ${submit ? submitFacts(submit) : ''}
</dl>
${job.state === 'dead' ? html`<p><a href="${ADMIN_PATHS.deadLetters}/${encodeURIComponent(job.id)}">Open the dead letter</a></p>` : ''}
${job.result !== undefined ? html`<h2>Result</h2><pre id="job-result">${prettyJson(job.result)}</pre>` : ''}
<p><a href="${ADMIN_PATHS.queues}/queue/${encodeURIComponent(job.kind)}/${encodeURIComponent(job.id)}">This job in bull-board</a></p>
</section>`,
  );
}

function submitFacts(submit: DrawingSubmit) {
  const task = submit.taskId
    ? html`<code>${submit.taskId}</code>`
    : submit.intentAt !== undefined
      ? html`<span class="badge warn">under way</span> since ${formatTime(submit.intentAt)} (not confirmed until its taskId is saved)`
      : html`<span class="muted">not submitted</span>`;
  const unconfirmed =
    submit.unconfirmed > 0
      ? html`<dt>unconfirmed submits</dt><dd id="unconfirmed-submits"><span class="badge bad">${submit.unconfirmed}</span> whose outcome was lost: the provider may have billed a task for each</dd>`
      : '';
  return html`<dt>taskId</dt><dd id="job-task">${task}</dd>${unconfirmed}`;
}
