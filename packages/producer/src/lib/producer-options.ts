import {
  type AtelierConfig,
  configuredTenants,
  createLogger,
  DEFAULT_DRAWING_LIMITS,
  DEFAULT_RETENTION,
  DEFAULT_TENANT,
  type DrawingLimits,
  type HostResolver,
  isTenantName,
  type Logger,
  type RetentionOptions,
  type TenantsConfig,
} from '@atelier/shared';
import type { RedisClient } from '@atelier/store';

export interface ProducerCallbackOptions {
  /** Whether callbacks can be sent at all (a signing secret is configured). */
  readonly enabled: boolean;
  /** Accept callback URLs on private/loopback/link-local addresses. */
  readonly allowPrivateUrls: boolean;
  /** Host resolver for the address check (tests inject one). */
  readonly resolve?: HostResolver;
}

export interface ProducerOptions {
  /** Redis to connect to; the producer owns (and closes) this connection. */
  redisUrl?: string;
  /** Or an existing connection (closed by its owner, not by the producer). */
  connection?: RedisClient;
  /** BullMQ and Atelier key prefix (`ATELIER_QUEUE_PREFIX`). */
  prefix?: string;
  limits?: DrawingLimits;
  retention?: RetentionOptions;
  logger?: Logger;
  callbacks?: ProducerCallbackOptions;
  /** Largest batch (`ATELIER_BATCH_MAX_ITEMS`). */
  batchMaxItems?: number;
  /** Items per `addBulk` call. */
  batchChunkSize?: number;
  /** `addBulk` calls of one batch in flight at once (overlaps building jobs with Redis work). */
  batchChunksInFlight?: number;
  /**
   * How long a batch's enqueuer holds it without progress before another process may take over
   * (a resubmission with its key) or close it (no key: `closeAbandonedBatches`). Default 60 s.
   */
  batchLeaseMs?: number;
  /**
   * The tenant this producer enqueues for (its jobs and batches record it; `forTenant` gives
   * producers for others). Default `default`.
   */
  tenant?: string;
  /** Images per UTC day per tenant (`ATELIER_QUOTAS`); unset: no quota. */
  quotas?: TenantsConfig['quotas'];
  /**
   * Within a priority, serve tenants in turn: jobs that must wait for their turn are queued
   * parked and admitted by the workers in weighted fair order (`ATELIER_FAIR_SHARE`; worth it
   * only with more than one tenant). Default false: first in, first out.
   */
  fairShare?: boolean;
  /** The clock usage days are read from (tests move it). Default `Date.now`. */
  clock?: () => number;
}

export interface ResolvedProducerOptions {
  readonly prefix: string;
  readonly limits: DrawingLimits;
  readonly retention: Required<RetentionOptions>;
  readonly logger: Logger;
  readonly callbacks: ProducerCallbackOptions;
  readonly batchMaxItems: number;
  readonly batchChunkSize: number;
  readonly batchChunksInFlight: number;
  readonly batchLeaseMs: number;
  readonly tenant: string;
  readonly quotas: TenantsConfig['quotas'];
  readonly fairShare: boolean;
  readonly clock: () => number;
}

/** Every default of the producer, merged in one place; bad values name the option. */
export function resolveProducerOptions(options: ProducerOptions): ResolvedProducerOptions {
  if (options.redisUrl === undefined && options.connection === undefined) {
    throw new TypeError('createProducer: pass redisUrl or connection');
  }
  const resolved: ResolvedProducerOptions = {
    prefix: options.prefix ?? 'atelier',
    limits: options.limits ?? DEFAULT_DRAWING_LIMITS,
    retention: { ...DEFAULT_RETENTION, ...options.retention },
    logger: options.logger ?? createLogger({ name: 'atelier-producer', level: 'warn' }),
    callbacks: options.callbacks ?? { enabled: false, allowPrivateUrls: false },
    batchMaxItems: options.batchMaxItems ?? 100_000,
    batchChunkSize: options.batchChunkSize ?? 1000,
    batchChunksInFlight: options.batchChunksInFlight ?? 2,
    batchLeaseMs: options.batchLeaseMs ?? 60_000,
    tenant: options.tenant ?? DEFAULT_TENANT,
    quotas: options.quotas ?? { byTenant: {}, fallback: undefined },
    fairShare: options.fairShare ?? false,
    clock: options.clock ?? Date.now,
  };
  const positive = [
    'batchMaxItems',
    'batchChunkSize',
    'batchChunksInFlight',
    'batchLeaseMs',
  ] as const;
  for (const name of positive) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(`createProducer: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (resolved.prefix.includes(':'))
    throw new TypeError('createProducer: prefix must not contain ":"');
  if (!isTenantName(resolved.tenant)) {
    throw new TypeError(
      `createProducer: tenant must be 1 to 40 of a-z, 0-9, "_" and "-", got "${resolved.tenant}"`,
    );
  }
  return resolved;
}

/** Producer options for a process that read `AtelierConfig` (API, CLI). */
export function producerOptionsFromConfig(
  config: AtelierConfig,
  extra: { logger: Logger; connection?: RedisClient; redisUrl?: string },
): ProducerOptions {
  const redisUrl = extra.redisUrl ?? config.redisUrl;
  return {
    ...(extra.connection ? { connection: extra.connection } : {}),
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    prefix: config.queuePrefix,
    limits: config.drawing.limits,
    retention: config.retention,
    logger: extra.logger,
    callbacks: {
      enabled: config.callbacks.secret !== undefined,
      allowPrivateUrls: config.callbacks.allowPrivateUrls,
    },
    batchMaxItems: config.api.batchMaxItems,
    quotas: config.tenants.quotas,
    // Parking waiting work costs a little: engaged only when the keys name several tenants.
    fairShare: config.tenants.fairShare && configuredTenants(config).length > 1,
  };
}
