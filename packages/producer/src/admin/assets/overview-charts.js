/*
 * The overview's charts. Reads GET /admin/stats (the series GET /v1/stats answers) and draws
 * them with uPlot, both served by the dashboard itself. A file, never inline: the dashboard's
 * Content-Security-Policy allows scripts from 'self' only.
 */
(() => {
  const root = document.getElementById('charts');
  if (!root || typeof uPlot === 'undefined') return;

  const DAY_MS = 86_400_000;
  /** Range → how far back, and seconds per point. */
  const RANGES = {
    '1h': { ms: 3_600_000, step: 60 },
    '24h': { ms: DAY_MS, step: 600 },
    '30d': { ms: 30 * DAY_MS, step: 3600 },
  };
  const COLORS = [
    '#2f5fd0',
    '#2f9e62',
    '#c8433a',
    '#b7791f',
    '#7b4fd0',
    '#0f8a8a',
    '#d0479b',
    '#5d6677',
    '#8a6d0f',
    '#1d2330',
  ];
  /** Every chart drawn, by name (uPlot instances; their `data` is what they show). */
  const charts = {};
  window.atelierCharts = charts;

  function say(state, message) {
    root.dataset.state = state;
    const status = document.getElementById('charts-status');
    if (status && message) status.textContent = message;
  }

  async function series(from, to, step) {
    const query = new URLSearchParams({ from: String(from), to: String(to), step: String(step) });
    const res = await fetch(`${root.dataset.statsUrl}?${query}`, {
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    return body;
  }

  /** Draws `lines` ({label, values}) over `times` (epoch ms) into the chart called `name`. */
  function draw(name, times, lines, options = {}) {
    const figure = root.querySelector(`[data-chart="${name}"]`);
    const plot = figure?.querySelector('.plot');
    if (!plot) return;
    plot.textContent = '';
    const shown = lines.length > 0 ? lines : [{ label: 'nothing yet', values: times.map(() => 0) }];
    const color = (i) => COLORS[i % COLORS.length];
    const opts = {
      width: Math.max(300, plot.clientWidth || 400),
      height: 220,
      scales: { x: { time: true } },
      legend: { live: false },
      axes: [{}, { size: 56 }],
      series: [
        {},
        ...shown.map((line, i) => ({
          label: line.label,
          stroke: color(i),
          width: 1.5,
          // Sparse series (a value only where something finished) show their points.
          ...(options.points ? { points: { show: true, size: 6 } } : {}),
          ...(options.bars
            ? { fill: `${color(i)}88`, paths: uPlot.paths.bars({ size: [0.7, 48] }) }
            : {}),
        })),
      ],
    };
    const data = [times.map((t) => t / 1000), ...shown.map((line) => line.values)];
    charts[name] = new uPlot(opts, data, plot);
  }

  const entries = (object) => Object.entries(object ?? {});
  const seconds = (values) => values.map((v) => (v === null ? null : v / 1000));

  async function main() {
    const range = RANGES[root.dataset.range] ?? RANGES['1h'];
    const now = Date.now();
    const day = Math.floor(now / DAY_MS) * DAY_MS;
    const [s, daily] = await Promise.all([
      series(now - range.ms, now, range.step),
      series(day - 29 * DAY_MS, now, 86_400),
    ]);
    const queues = entries(s.queues);
    draw(
      'throughput',
      s.times,
      queues.map(([queue, q]) => ({ label: `${queue} completed`, values: q.completed })),
    );
    draw(
      'failures',
      s.times,
      queues.flatMap(([queue, q]) => [
        { label: `${queue} dead`, values: q.dead },
        { label: `${queue} retried`, values: q.retried },
      ]),
    );
    draw(
      'latency',
      s.times,
      queues.flatMap(([queue, q]) =>
        ['p50', 'p95', 'p99'].map((p) => ({
          label: `${queue} ${p}`,
          values: seconds(q.latencyMs[p]),
        })),
      ),
      { points: true },
    );
    draw(
      'polls',
      s.times,
      entries(s.pollsPerTask).map(([queue, values]) => ({ label: queue, values })),
      { points: true },
    );
    draw(
      'codes',
      s.times,
      entries(s.providerCodes).flatMap(([provider, codes]) =>
        entries(codes).map(([code, values]) => ({ label: `${provider} ${code}`, values })),
      ),
    );
    draw(
      'logins',
      s.times,
      entries(s.cmeLogins).map(([outcome, values]) => ({ label: outcome, values })),
    );
    draw(
      'images',
      daily.times,
      entries(daily.images).map(([tenant, values]) => ({ label: tenant, values })),
      { bars: true },
    );
    say('ready');
  }

  main().catch((error) => say('error', `The charts could not be loaded: ${error.message}`));
})();
