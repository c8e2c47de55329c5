import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A file the dashboard serves itself (no CDN): its bytes, type and versioned URL. */
export interface DashboardAsset {
  readonly name: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** The first hex digits of its SHA-256: pages link `?v=<version>`, so it may be cached. */
  readonly version: string;
}

const require = createRequire(import.meta.url);

function asset(name: string, contentType: string, path: string): DashboardAsset {
  const body = readFileSync(path);
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name, contentType, body, version };
}

/**
 * The dashboard's scripts and styles, read once from disk: uPlot (the npm package, from
 * node_modules) and the overview's chart script. Scripts are files, never inline, so the
 * dashboard's CSP (`script-src 'self'`) holds.
 */
export function loadDashboardAssets(): ReadonlyMap<string, DashboardAsset> {
  const js = 'text/javascript; charset=utf-8';
  const assets = [
    asset('uplot.js', js, require.resolve('uplot/dist/uPlot.iife.min.js')),
    asset('uplot.css', 'text/css; charset=utf-8', require.resolve('uplot/dist/uPlot.min.css')),
    asset(
      'overview-charts.js',
      js,
      fileURLToPath(new URL('./assets/overview-charts.js', import.meta.url)),
    ),
  ];
  return new Map(assets.map((a) => [a.name, a]));
}
