import type { BatchInfo } from '@atelier/store';
import { ADMIN_PATHS } from '../admin-paths.ts';
import type { DashboardAsset } from '../dashboard-assets.ts';
import { maskString } from '../mask-secrets.ts';
import type { Overview, QueueOverview } from '../overview-reader.ts';
import { html, type SafeHtml } from '../safe-html.ts';
import { type ChartRange, chartsHead, chartsSection } from './charts-section.ts';
import { formatAgo, formatDuration, formatRate, formatTime } from './formatting.ts';
import { layout, postButton } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { tenantFilter } from './tenant-filter.ts';

/** What the overview's charts need: the range shown and the files that draw them. */
export interface OverviewCharts {
  range: ChartRange;
  assets: ReadonlyMap<string, DashboardAsset>;
}

/**
 * `/admin`: queues, charts of the time series, provider health, batches, dead letters, CME
 * tickets, recent errors; with `?tenant=` the batches are that tenant's and its dead letters
 * are counted.
 */
export function overviewPage(
  ctx: PageContext,
  o: Overview,
  tenants: readonly string[],
  charts: OverviewCharts,
): string {
  const filter = tenantFilter(tenants, o.tenant, (t) =>
    t === undefined ? ADMIN_PATHS.base : `${ADMIN_PATHS.base}?tenant=${encodeURIComponent(t)}`,
  );
  return layout(
    ctx,
    'Overview',
    html`${filter}${queuesSection(ctx, o)}${chartsSection(charts.range)}${healthSection(ctx, o)}${deadLetterSection(ctx, o)}${batchSection(o)}${ticketSection(o)}${errorSection(o)}
<p class="muted">Read at ${formatTime(o.at)}${ctx.refreshSec ? ` · reloads every ${ctx.refreshSec} s` : ''}</p>`,
    chartsHead(charts.assets),
  );
}

function queueState(q: QueueOverview): SafeHtml {
  if (q.halt) return html`<span class="badge bad">halted</span>`;
  if (q.paused) return html`<span class="badge warn">paused</span>`;
  if (q.throttledForMs > 0) return html`<span class="badge warn">throttled</span>`;
  return html`<span class="badge ok">running</span>`;
}

function queuesSection(ctx: PageContext, o: Overview): SafeHtml {
  const rows = o.queues.map((q) => {
    const c = q.counts;
    const action = q.paused
      ? postButton(
          ctx,
          `${ADMIN_PATHS.queueActions}/${encodeURIComponent(q.name)}/resume`,
          'Resume',
        )
      : postButton(
          ctx,
          `${ADMIN_PATHS.queueActions}/${encodeURIComponent(q.name)}/pause`,
          'Pause',
          {
            confirm: 'really pause',
          },
        );
    return html`<tr data-queue="${q.name}">
  <td><a href="${ADMIN_PATHS.queues}/queue/${encodeURIComponent(q.name)}">${q.name}</a></td>
  <td>${queueState(q)}</td>
  <td class="num">${(c.waiting ?? 0) + (c.prioritized ?? 0)}</td>
  <td class="num">${c.active ?? 0}</td>
  <td class="num">${c.delayed ?? 0}</td>
  <td class="num">${c.completed ?? 0}</td>
  <td class="num">${c.failed ?? 0}</td>
  <td class="num">${formatRate(q.completedPerMin)}</td>
  <td class="num">${formatRate(q.failedPerMin)}</td>
  <td>${action}</td>
</tr>`;
  });
  return html`<section id="queues"><h2>Queues</h2>
<table><thead><tr><th>queue</th><th>state</th><th class="num">waiting</th><th class="num">active</th><th class="num">delayed (polling, back-off)</th><th class="num">completed</th><th class="num">failed</th><th class="num">completed/min</th><th class="num">failed/min</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="muted">Rates: jobs per minute over the last 5 minutes, from the workers' BullMQ metrics.</p></section>`;
}

function healthSection(ctx: PageContext, o: Overview): SafeHtml {
  const outage = o.outage
    ? html`<p id="outage"><span class="badge bad">outage window ${o.outage.phase}</span> drawing provider answered <code>${o.outage.code}</code> repeatedly; window opened ${formatTime(o.outage.openedAt)}${
        o.outage.phase === 'open'
          ? html`, no provider calls until ${formatTime(o.outage.until)} (${formatDuration(o.outage.until - o.at)} left)`
          : html`, ended ${formatTime(o.outage.until)}: one job is probing the provider`
      }.</p>`
    : html`<p id="outage"><span class="badge ok">no outage</span> drawing provider: no maintenance window open.</p>`;
  const rows = o.queues.map((q) => {
    const halt = q.halt
      ? html`<span class="badge bad">halted</span> <code>${q.halt.code}</code> ${maskString(q.halt.message)} <span class="muted">since ${formatTime(q.halt.at)}</span>`
      : q.paused
        ? html`<span class="badge warn">paused by an operator</span>`
        : html`<span class="muted">—</span>`;
    const throttle =
      q.throttledForMs > 0
        ? html`<span class="badge warn">throttled</span> ${formatDuration(q.throttledForMs)} left`
        : html`<span class="muted">no</span>`;
    const resume = q.paused
      ? postButton(
          ctx,
          `${ADMIN_PATHS.queueActions}/${encodeURIComponent(q.name)}/resume`,
          'Resume queue',
        )
      : '';
    return html`<tr data-health="${q.name}"><td>${q.name}</td><td>${throttle}</td><td>${halt}</td><td>${resume}</td></tr>`;
  });
  return html`<section id="health"><h2>Provider health</h2>${outage}
<table><thead><tr><th>queue</th><th>throttled</th><th>paused / halted</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function deadLetterSection(ctx: PageContext, o: Overview): SafeHtml {
  const rows = o.deadLetters.byCode.map(
    ({ code, count }) => html`<tr data-dead-code="${code}">
  <td><a href="${ADMIN_PATHS.deadLetters}?code=${encodeURIComponent(code)}"><code>${code}</code></a></td>
  <td class="num">${count}</td>
  <td>${postButton(ctx, `${ADMIN_PATHS.deadLetters}/replay`, `Replay all with code ${code}`, { fields: { code }, confirm: 'all of them' })}</td>
</tr>`,
  );
  const body =
    rows.length > 0
      ? html`<table><thead><tr><th>code</th><th class="num">entries</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p class="muted" id="no-dead-letters">The dead-letter queue is empty.</p>`;
  const unconfirmed = o.deadLetters.byCode.find((c) => c.code === 'SUBMIT_UNCONFIRMED')?.count ?? 0;
  const warning =
    unconfirmed > 0
      ? html`<p id="unconfirmed-submits"><span class="badge bad">${unconfirmed} SUBMIT_UNCONFIRMED</span> a drawing's submit outcome was lost: the provider may have billed a task. Check the provider before replaying — a replay submits once more.</p>`
      : '';
  const mine =
    o.tenant !== undefined
      ? html`<p id="tenant-dead-letters">Tenant <strong>${o.tenant}</strong>: <a href="${ADMIN_PATHS.deadLetters}?tenant=${encodeURIComponent(o.tenant)}">${o.deadLetters.tenantTotal ?? 0} dead letters</a> (the counts by code below are every tenant's).</p>`
      : '';
  return html`<section id="dead-letters"><h2>Dead letters (${o.deadLetters.total})</h2>${mine}${warning}${body}
<p><a href="${ADMIN_PATHS.deadLetters}">All dead letters</a></p></section>`;
}

function progressBar(b: BatchInfo): SafeHtml {
  const pct = (n: number) => (b.total > 0 ? ((100 * n) / b.total).toFixed(1) : '0');
  return html`<div class="bar" title="${b.completed} completed, ${b.dead} dead, ${b.cancelled} cancelled, ${b.pending} pending"><span class="ok" style="width:${pct(b.completed)}%"></span><span class="dead" style="width:${pct(b.dead)}%"></span><span class="cancelled" style="width:${pct(b.cancelled)}%"></span></div>`;
}

function batchBadge(state: BatchInfo['state']): string {
  if (state === 'completed') return 'ok';
  if (state === 'paused' || state === 'incomplete') return 'warn';
  return state === 'open' ? '' : 'bad';
}

function batchSection(o: Overview): SafeHtml {
  const of = o.tenant !== undefined ? html` of ${o.tenant}` : '';
  if (o.batches.length === 0) {
    return html`<section id="batches"><h2>Batches${of}</h2><p class="muted">No batches yet.</p></section>`;
  }
  const rows = o.batches.map(
    (b) => html`<tr data-batch="${b.id}">
  <td><a href="${ADMIN_PATHS.batches}/${encodeURIComponent(b.id)}"><code>${b.id}</code></a></td>
  <td data-tenant="${b.tenant}">${b.tenant}</td>
  <td>${progressBar(b)}</td>
  <td class="num">${b.total}</td><td class="num">${b.completed}</td><td class="num">${b.dead}</td><td class="num">${b.cancelled}</td><td class="num">${b.pending}</td>
  <td><span class="badge ${batchBadge(b.state)}">${b.state}</span></td>
  <td>${formatAgo(b.createdAt, o.at)}</td>
  <td><a href="${ADMIN_PATHS.batches}/${encodeURIComponent(b.id)}/results">results</a>${b.dead > 0 ? html` · <a href="${ADMIN_PATHS.deadLetters}?batchId=${encodeURIComponent(b.id)}">dead letters</a>` : ''}</td>
</tr>`,
  );
  return html`<section id="batches"><h2>Batches${of}</h2>
<table><thead><tr><th>batch</th><th>tenant</th><th>progress</th><th class="num">total</th><th class="num">completed</th><th class="num">dead</th><th class="num">cancelled</th><th class="num">pending</th><th>state</th><th>created</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></section>`;
}

function ticketSection(o: Overview): SafeHtml {
  if (o.tickets.length === 0) {
    return html`<section id="tickets"><h2>CME tickets</h2><p class="muted">No CME logins yet.</p></section>`;
  }
  const rows = o.tickets.map(
    (t) => html`<tr data-ticket="${t.platform}:${t.userId}">
  <td>${t.platform}</td><td>${t.userId}</td>
  <td>${t.active ? html`<span class="badge ok">active</span>` : html`<span class="badge warn">invalidated</span>`}</td>
  <td>${formatDuration(t.ageMs)}</td><td>${formatTime(t.obtainedAt)}</td><td class="num">${t.refreshes}</td>
</tr>`,
  );
  return html`<section id="tickets"><h2>CME tickets</h2>
<table><thead><tr><th>platform</th><th>user</th><th>ticket</th><th>age</th><th>last refresh</th><th class="num">logins</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Tickets themselves are never shown.</p></section>`;
}

function errorSection(o: Overview): SafeHtml {
  if (o.recentErrors.groups.length === 0) {
    return html`<section id="recent-errors"><h2>Recent error codes</h2><p class="muted">No recent failures.</p></section>`;
  }
  const rows = o.recentErrors.groups.map(
    (g) => html`<tr data-error-code="${g.code}">
  <td><code>${g.code}</code></td><td>${g.queue}</td><td class="num">${g.count}</td><td>${g.kinds.join(', ')}</td><td>${formatAgo(g.lastAt, o.at)}</td>
</tr>`,
  );
  return html`<section id="recent-errors"><h2>Recent error codes</h2>
<table><thead><tr><th>code</th><th>queue</th><th class="num">count</th><th>kind</th><th>last seen</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">The last ${o.recentErrors.sampled} failures recorded by the workers (retries included).</p></section>`;
}
