import { AtelierError } from '@atelier/shared';
import type { RedisClient } from '@atelier/store';
import { RedisUnavailableError } from './errors/redis-unavailable-error.ts';

/**
 * How long one Redis call of a request (library, API, dashboard) may take before it fails with
 * `REDIS_UNAVAILABLE` (HTTP 503): well under a second, so a caller never hangs on an outage.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 800;

/** ioredis states in which a command would wait for the first connection (not an outage). */
const STARTING = new Set(['wait', 'connecting', 'connect']);

const CONNECTION_ERRORS =
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|MaxRetriesPerRequest|Reached the max retries|None of startup nodes is available|CLUSTERDOWN/;

/**
 * Makes every Redis call of a request fail fast instead of hanging: a connection that is
 * reconnecting refuses at once, one that is still starting gets `timeoutMs` to become ready,
 * and a call that takes longer than its timeout is abandoned. All of these, and connection
 * errors, become `RedisUnavailableError` (HTTP 503). The connection keeps reconnecting by
 * itself, so the next call after Redis returns succeeds. An abandoned call, or one whose
 * connection failed once it was running, may still be carried out (`sent`: ioredis may even
 * send it again after reconnecting); a refusal before running it changed nothing.
 */
export class RedisGuard {
  readonly #redis: RedisClient;
  readonly #timeoutMs: number;

  constructor(redis: RedisClient, timeoutMs = REDIS_COMMAND_TIMEOUT_MS) {
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs `operation` when Redis is usable, within `timeoutMs` (default: the guard's). */
  async run<T>(operation: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    await this.#connected(timeoutMs);
    const remaining = Math.max(1, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RedisUnavailableError(`no answer within ${timeoutMs} ms`, undefined, {
              sent: true,
            }),
          ),
        remaining,
      );
    });
    try {
      return await Promise.race([operation(), timeout]);
    } catch (error) {
      throw this.#classify(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async #connected(timeoutMs: number): Promise<void> {
    const status = this.#redis.status;
    if (status === 'ready') return;
    if (!STARTING.has(status)) throw new RedisUnavailableError(`connection ${status}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady);
        reject(new RedisUnavailableError(`not connected after ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once('ready', onReady);
    });
  }

  #classify(error: unknown): unknown {
    if (error instanceof AtelierError) return error;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (CONNECTION_ERRORS.test(message) || this.#redis.status !== 'ready') {
      return new RedisUnavailableError('connection lost', error, { sent: true });
    }
    return error;
  }
}
