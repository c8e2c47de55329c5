import { ADMIN_PATHS } from '../admin-paths.ts';
import type { DashboardAsset } from '../dashboard-assets.ts';
import { html, type SafeHtml } from '../safe-html.ts';

/** The ranges the overview's charts offer (`?range=`), the first the default. */
export const CHART_RANGES = ['1h', '24h', '30d'] as const;
export type ChartRange = (typeof CHART_RANGES)[number];

const RANGE_LABELS: Record<ChartRange, string> = { '1h': '1 h', '24h': '24 h', '30d': '30 d' };

/** The charts, in order: the chart script draws each `data-chart` it finds. */
const CHARTS: ReadonlyArray<[name: string, title: string]> = [
  ['throughput', 'Completed per queue'],
  ['failures', 'Dead-lettered and retried per queue'],
  ['latency', 'Enqueue to completion: p50 / p95 / p99 (seconds)'],
  ['polls', 'Polls per finished drawing task'],
  ['codes', 'Provider answers by code'],
  ['logins', 'CME logins'],
  ['images', 'Images per tenant per day (last 30 days)'],
];

/** `?range=` as asked, or the default. */
export function chartRange(query: unknown): ChartRange {
  const range = (query as { range?: unknown } | undefined)?.range;
  return CHART_RANGES.find((r) => r === range) ?? CHART_RANGES[0];
}

/** The scripts and stylesheet the charts need (files served by the dashboard itself). */
export function chartsHead(assets: ReadonlyMap<string, DashboardAsset>): SafeHtml {
  const url = (name: string) => {
    const asset = assets.get(name);
    return `${ADMIN_PATHS.assets}/${name}?v=${asset?.version ?? '0'}`;
  };
  return html`<link rel="stylesheet" href="${url('uplot.css')}">
<script src="${url('uplot.js')}" defer></script>
<script src="${url('overview-charts.js')}" defer></script>`;
}

/**
 * The charts section of the overview: range links, and one figure per chart that the chart
 * script fills from `GET /admin/stats` (the series of `GET /v1/stats`).
 */
export function chartsSection(range: ChartRange): SafeHtml {
  const links = CHART_RANGES.map((r) =>
    r === range
      ? html`<a href="${ADMIN_PATHS.base}?range=${r}" aria-current="page">${RANGE_LABELS[r]}</a>`
      : html`<a href="${ADMIN_PATHS.base}?range=${r}">${RANGE_LABELS[r]}</a>`,
  );
  const figures = CHARTS.map(
    ([name, title]) =>
      html`<figure class="chart" data-chart="${name}"><figcaption>${title}</figcaption><div class="plot"></div></figure>`,
  );
  return html`<section id="charts" data-stats-url="${ADMIN_PATHS.stats}" data-range="${range}" data-state="loading"><h2>Charts</h2>
<nav class="ranges" aria-label="range">${links}</nav>
<div class="charts">${figures}</div>
<p class="muted" id="charts-status">Counted by the workers per minute (kept 48 h) and per hour (kept 30 days); the same series as <code>GET /v1/stats</code>.</p></section>`;
}
