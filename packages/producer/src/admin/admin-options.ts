import type { AtelierConfig, Logger } from '@atelier/shared';
import type { ImageStore, RedisClient } from '@atelier/store';
import type { Producer } from '../lib/producer.ts';
import type { LoginThrottleOptions } from './login-throttle.ts';

/** What the `/admin` dashboard needs; see `adminPlugin`. */
export interface AdminOptions {
  /** Replays and deletes go through the producer library (batch counters stay exact). */
  producer: Producer;
  /** Read for the login (`config.admin`) and the queue names' prefix. */
  config: AtelierConfig;
  /** Redis of the deployment (the producer's connection will do). */
  redis: RedisClient;
  /** BullMQ and Atelier key prefix (`ATELIER_QUEUE_PREFIX`). */
  prefix: string;
  logger: Logger;
  /**
   * The image archive the batch gallery shows thumbnails from (served to the logged-in operator
   * by `/admin/images/*`); unset: the provider's URLs are shown instead.
   */
  images?: ImageStore;
  /** Shows the SIMULATOR banner: jobs go to the built-in fake providers. */
  simulator?: boolean;
  /** Lifetime of a login. Default 12 hours. */
  sessionTtlMs?: number;
  /** Seconds between automatic reloads of the live pages (0: never). Default 5. */
  refreshSec?: number;
  /** Brute-force damping of the login form. */
  login?: Partial<LoginThrottleOptions>;
  /** Clock (tests). */
  now?: () => number;
}

export interface ResolvedAdminOptions
  extends Readonly<Required<Omit<AdminOptions, 'login' | 'images'>>> {
  readonly login: LoginThrottleOptions;
  readonly images: ImageStore | undefined;
}

const HOUR = 3_600_000;

/** Every default of the dashboard, merged in one place; bad values name the option. */
export function resolveAdminOptions(options: AdminOptions): ResolvedAdminOptions {
  const resolved: ResolvedAdminOptions = {
    ...options,
    images: options.images,
    simulator: options.simulator ?? false,
    sessionTtlMs: options.sessionTtlMs ?? 12 * HOUR,
    refreshSec: options.refreshSec ?? 5,
    now: options.now ?? Date.now,
    login: {
      maxFailures: 10,
      windowMs: 15 * 60_000,
      lockoutMs: 15 * 60_000,
      failureDelayMs: 300,
      ...options.login,
    },
  };
  const checks: Array<[string, number, number]> = [
    ['sessionTtlMs', resolved.sessionTtlMs, 1000],
    ['refreshSec', resolved.refreshSec, 0],
    ['login.maxFailures', resolved.login.maxFailures, 1],
    ['login.windowMs', resolved.login.windowMs, 1],
    ['login.lockoutMs', resolved.login.lockoutMs, 0],
    ['login.failureDelayMs', resolved.login.failureDelayMs, 0],
  ];
  for (const [name, value, min] of checks) {
    if (!Number.isFinite(value) || value < min) {
      throw new TypeError(`adminPlugin: ${name} must be a number ≥ ${min}, got ${value}`);
    }
  }
  return resolved;
}
