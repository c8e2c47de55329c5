/** What every dashboard page needs besides its own data. */
export interface PageContext {
  /** The logged-in operator (absent on the login page). */
  user?: string;
  /** CSRF token for forms (absent on the login page). */
  csrf?: string;
  simulator: boolean;
  /** Reload the page every this many seconds (0/absent: never). */
  refreshSec?: number;
  /** A one-line confirmation of what the last action did. */
  notice?: string;
  now: number;
}
