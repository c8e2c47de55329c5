import { maskSecrets } from '../mask-secrets.ts';

/** `2024-05-01 12:00:05Z`, or `—` for nothing. */
export function formatTime(ms: number | undefined): string {
  if (!ms || !Number.isFinite(ms)) return '—';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function formatAgo(at: number | undefined, now: number): string {
  return at ? `${formatDuration(now - at)} ago` : '—';
}

/** Rates with one decimal below 10/min. */
export function formatRate(perMin: number): string {
  return perMin >= 10 ? String(Math.round(perMin)) : perMin.toFixed(1);
}

/** Pretty JSON of a value with every secret masked (for `<pre>`; escape it as text). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(maskSecrets(value), null, 2) ?? 'null';
}
