/** Where the dashboard lives and the names of its cookies. */
export const ADMIN_PATHS = {
  base: '/admin',
  login: '/admin/login',
  logout: '/admin/logout',
  deadLetters: '/admin/dead-letters',
  jobs: '/admin/jobs',
  /** bull-board. */
  queues: '/admin/queues',
  /** Atelier's own queue actions (pause, resume). */
  queueActions: '/admin/queue',
  batches: '/admin/batches',
  /** Archived images, for the logged-in operator (the batch gallery's thumbnails). */
  images: '/admin/images',
  /** The dashboard's own scripts and styles (uPlot, the chart script). */
  assets: '/admin/assets',
  /** The time series as JSON, for the overview's charts. */
  stats: '/admin/stats',
} as const;

export const SESSION_COOKIE = 'atelier_admin_session';
export const LOGIN_COOKIE = 'atelier_admin_login';

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** `next` after login: only a path inside the dashboard (no open redirect). */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string') return ADMIN_PATHS.base;
  const ok =
    (next === ADMIN_PATHS.base || next.startsWith(`${ADMIN_PATHS.base}/`)) &&
    !next.includes('//') &&
    !next.includes('\\') &&
    !pathOf(next).startsWith(ADMIN_PATHS.login) &&
    /^[!-~]+$/.test(next);
  return ok ? next : ADMIN_PATHS.base;
}
