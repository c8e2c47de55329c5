import {
  type CmeConfig,
  type CmeOperation,
  type CmeResult,
  ConfigError,
  type Logger,
  type Outcome,
} from '@atelier/shared';
import type { RedisClient } from '@atelier/store';
import {
  cmeAlreadyGone,
  cmeAuthPersistsOutcome,
  cmeRateLimitedOutcome,
  createdClassIn,
  describeMaterialsData,
} from './cme-answers.ts';
import { type CmeHttp, createCmeHttp } from './cme-http.ts';
import { CmeRateLimiter } from './cme-rate-limiter.ts';
import { delay } from './delay.ts';
import { fillPlatform } from './fill-platform.ts';
import { LoginClient } from './login-client.ts';
import { type CmeCallEvent, PaasClient } from './paas-client.ts';
import { type TicketRefreshEvent, TicketStore } from './ticket-store.ts';

export interface CmeOperationRunnerOptions {
  redis: RedisClient;
  /** BullMQ prefix (`ATELIER_QUEUE_PREFIX`). */
  prefix: string;
  /** Platform, SecretId and SecretKey must be set (`requireCmeProvider`). */
  config: CmeConfig;
  logger?: Logger;
  /** Every client-API call (metrics). */
  onCall?: (event: CmeCallEvent) => void;
  /** Every login this process makes (metrics). */
  onRefresh?: (event: TicketRefreshEvent) => void;
  /** Longest in-process wait for a rate-limit slot; beyond it the outcome is `throttled`. */
  maxRateWaitMs?: number;
  /** How long callers wait for a login running in another process. */
  ticketWaitTimeoutMs?: number;
  /** An HTTP instance to use instead of the runner's own (`createCmeHttp`); the caller closes it. */
  http?: CmeHttp;
  now?: () => number;
}

const DEFAULTS = { maxRateWaitMs: 2000, now: Date.now };

/** Calls per operation: the first, and at most two more after refreshing the ticket. */
const MAX_AUTH_REFRESHES = 2;

/**
 * Runs one CME operation: fills `Platform`, takes a rate-limit slot, gets the cached ticket,
 * calls, and on an auth failure invalidates that ticket (compare-and-delete), gets a fresh one
 * and retries. An auth failure with a ticket minted after the previous failure is terminal.
 * Returns outcomes; rethrows aborts.
 */
export class CmeOperationRunner {
  readonly tickets: TicketStore;
  readonly #http: CmeHttp;
  readonly #ownsHttp: boolean;
  readonly #paas: PaasClient;
  readonly #limiter: CmeRateLimiter;
  readonly #platform: string;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;

  constructor(options: CmeOperationRunnerOptions) {
    const o = { ...DEFAULTS, ...options };
    const { config } = o;
    if (config.platform === undefined) throw new ConfigError('CME_PLATFORM', 'is required');
    if (config.secretId === undefined) throw new ConfigError('CME_SECRET_ID', 'is required');
    if (config.secretKey === undefined) throw new ConfigError('CME_SECRET_KEY', 'is required');
    this.#platform = config.platform;
    this.#logger = o.logger;
    this.#now = o.now;
    this.#ownsHttp = o.http === undefined;
    this.#http = o.http ?? createCmeHttp({ requestTimeoutMs: config.requestTimeoutMs });
    const login = new LoginClient({
      http: this.#http.got,
      loginUrl: config.loginUrl,
      platform: config.platform,
      secretId: config.secretId,
      secretKey: config.secretKey,
      signatureValiditySec: config.signatureValiditySec,
      ...(o.logger && { logger: o.logger }),
      now: o.now,
    });
    // A login is at most two requests (re-sign once): the lock outlives both.
    const lockTtlMs = 2 * config.requestTimeoutMs + 5000;
    this.tickets = new TicketStore({
      redis: o.redis,
      prefix: o.prefix,
      platform: config.platform,
      login: (userId, signal) => login.login(userId, signal),
      maxAgeMs: config.ticketMaxAgeMs,
      lockTtlMs,
      waitTimeoutMs: o.ticketWaitTimeoutMs ?? lockTtlMs + 5000,
      ...(o.onRefresh && { onRefresh: o.onRefresh }),
      ...(o.logger && { logger: o.logger }),
      now: o.now,
    });
    this.#paas = new PaasClient({
      http: this.#http.got,
      apiBaseUrl: config.apiBaseUrl,
      ...(o.onCall && { onCall: o.onCall }),
      ...(o.logger && { logger: o.logger }),
      now: o.now,
    });
    this.#limiter = new CmeRateLimiter({
      redis: o.redis,
      prefix: o.prefix,
      ratePerSec: config.rateLimitPerSec,
      maxWaitMs: o.maxRateWaitMs,
    });
  }

  async run(operation: CmeOperation, signal?: AbortSignal): Promise<Outcome<CmeResult>> {
    const { action, userId } = operation;
    const body = fillPlatform(action, operation.params, this.#platform);
    let previousFailureAt: number | undefined;
    for (let refreshes = 0; ; refreshes++) {
      const throttled = await this.#takeSlot(action, signal);
      if (throttled) return throttled;
      const ticketOutcome = await this.tickets.get(userId, signal);
      if (ticketOutcome.kind !== 'ok') return ticketOutcome;
      const ticket = ticketOutcome.value;
      const outcome = await this.#paas.call(action, body, ticket.authorization, signal);
      if (outcome.kind === 'ok') return { kind: 'ok', value: done(operation, outcome.value) };
      if (cmeAlreadyGone(action, outcome)) {
        return {
          kind: 'ok',
          value: { action, userId, outcome: 'already-gone', alreadyGone: true },
        };
      }
      if (outcome.kind !== 'failed' || outcome.error.kind !== 'auth') return outcome;
      const failedAt = this.#now();
      await this.tickets.invalidate(userId, ticket);
      // A ticket minted after the previous failure was made for this retry: not an expiry.
      const mintedForRetry =
        previousFailureAt !== undefined && ticket.obtainedAt >= previousFailureAt;
      if (mintedForRetry || refreshes >= MAX_AUTH_REFRESHES) {
        return cmeAuthPersistsOutcome(action, outcome.error);
      }
      this.#logger?.debug({ action, userId, code: outcome.error.code }, 'cme ticket rejected');
      previousFailureAt = failedAt;
    }
  }

  /**
   * Whether an earlier attempt of this create made its object (`CreateClass`: a class of that
   * name under that parent, looked up with `DescribeClass`): ok with the result the create would
   * have given (`alreadyCreated`), ok `undefined` when it did not, or the look-up's failure.
   */
  async findCreated(
    operation: CmeOperation,
    signal?: AbortSignal,
  ): Promise<Outcome<CmeResult | undefined>> {
    const { action, userId, params } = operation;
    if (action !== 'Material/CreateClass') throw new Error(`${action} is not a create`);
    const lookup = await this.run(
      {
        userId,
        action: 'Material/DescribeClass',
        params: {
          Owner: params.Owner,
          BaseClassId: params.ParentClassId,
          FirstLevel: true,
          ...(params.Platform !== undefined && { Platform: params.Platform }),
        },
      },
      signal,
    );
    if (lookup.kind !== 'ok') return lookup;
    const made = createdClassIn(lookup.value.data, String(params.Name));
    if (made === undefined) return { kind: 'ok', value: undefined };
    return {
      kind: 'ok',
      value: { action, userId, outcome: 'done', alreadyCreated: true, data: made },
    };
  }

  /** Waits for a rate-limit slot; a `throttled` outcome when none comes soon enough. */
  async #takeSlot(
    action: string,
    signal: AbortSignal | undefined,
  ): Promise<Outcome<never> | undefined> {
    const actionClass = action.split('/')[0] ?? action;
    const decision = await this.#limiter.reserve(actionClass);
    if (decision.kind === 'wait') return cmeRateLimitedOutcome(actionClass, decision.waitMs);
    if (decision.afterMs > 0) await delay(decision.afterMs, signal);
    return undefined;
  }

  /** Closes the HTTP agents it made (the Redis connection belongs to the caller). */
  close(): void {
    if (this.#ownsHttp) this.#http.close();
  }
}

function done(operation: CmeOperation, value: unknown): CmeResult {
  const data =
    operation.action === 'Material/DescribeMaterials' ? describeMaterialsData(value) : value;
  return {
    action: operation.action,
    userId: operation.userId,
    outcome: 'done',
    ...(data !== undefined && { data }),
  };
}
