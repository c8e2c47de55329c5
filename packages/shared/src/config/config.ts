import { ConfigError } from '../errors/config-error.ts';
import { ALL_QUEUES, DEFAULT_RETENTION, type QueueName, type RetentionOptions } from '../queues.ts';
import { DEFAULT_DRAWING_LIMITS, type DrawingLimits } from '../schemas/drawing-request.ts';
import type { Secret } from '../secret.ts';
import { type Env, EnvReader, type TenantKey } from './env-reader.ts';

export const DRAWING_AUTH_MODES = ['apig', 'huawei-appcode', 'aliyun-appcode', 'none'] as const;
export type DrawingAuthMode = (typeof DRAWING_AUTH_MODES)[number];

/** Providers the simulator can stand in for (`ATELIER_SIMULATOR`). */
export const SIMULATED_PROVIDERS = ['drawing', 'cme'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

/** A `DRAWING_RESOLUTIONS` member: `<width>*<height>` in pixels, as the provider writes it. */
const RESOLUTION_PATTERN = /^[1-9]\d*\*[1-9]\d*$/;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface PollSchedule {
  /** First query after submit, before anything has been learned. */
  firstMs: number;
  /** Starting interval between queries. */
  intervalMs: number;
  /** Largest interval between queries. */
  maxIntervalMs: number;
  /** Give up (dead letter `POLL_TIMEOUT`, taskId kept) this long after submit. */
  deadlineMs: number;
  /**
   * How many ms of detection delay one provider query is worth: the learned schedule minimises
   * `queries + mean detection delay / costMs` per task.
   */
  costMs: number;
}

export interface DrawingConfig {
  baseUrl: string | undefined;
  submitPath: string | undefined;
  queryPath: string | undefined;
  authMode: DrawingAuthMode;
  appKey: string | undefined;
  appSecret: Secret | undefined;
  appCode: Secret | undefined;
  requestTimeoutMs: number;
  concurrency: number;
  poll: PollSchedule;
  /** Wait after a 500/501 before that job (or, during an outage window, the queue) tries again. */
  maintenanceBackoffMs: number;
  /** Consecutive 500/501 answers that open a queue-wide outage window. */
  outageStreak: number;
  /**
   * A bare 404 or 3xx (a load balancer mid-deploy, or a wrong URL) is retried as transient until
   * the endpoint has answered nothing else for `misrouteStreak` calls in a row (all workers) AND
   * for `misrouteMinMs`: then the URL is taken to be wrong and the queue halts.
   */
  misrouteStreak: number;
  misrouteMinMs: number;
  /** A job in maintenance back-off longer than this goes to the dead-letter queue. */
  maintenanceMaxMs: number;
  /** Queue-wide pause after a throttling answer without a hint. */
  throttleMs: number;
  /**
   * Submits again allowed per job after submits whose outcome is unknown (a timeout or a lost
   * answer after sending, a worker that died between the paid call and saving its taskId: the
   * provider may have created — and billed — a task). 0 (the default): the first one is
   * dead-lettered `SUBMIT_UNCONFIRMED` for a person to decide, never paid for again silently.
   */
  unconfirmedSubmitLimit: number;
  limits: DrawingLimits;
}

export interface CmeConfig {
  loginUrl: string;
  apiBaseUrl: string;
  platform: string | undefined;
  secretId: Secret | undefined;
  secretKey: Secret | undefined;
  requestTimeoutMs: number;
  concurrency: number;
  /** Calls per second per action class, shared by every worker. */
  rateLimitPerSec: number;
  /** Refresh tickets older than this even if they still work (0 = only on failure). */
  ticketMaxAgeMs: number;
  /** `expireTime - currentTimeStamp` of login signatures. */
  signatureValiditySec: number;
}

/** Where finished images are archived (`ATELIER_IMAGE_STORE`). */
export type ImageStoreConfig =
  | { kind: 'none' }
  /** A directory (relative paths are taken from the process's working directory). */
  | { kind: 'fs'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix without leading or trailing slash ('' for none). */
      prefix: string;
      region: string;
      /** An S3-compatible endpoint (MinIO, R2…); undefined: AWS. */
      endpoint: string | undefined;
      forcePathStyle: boolean;
      /** Both set, or both undefined (then the AWS SDK's default credential chain). */
      accessKeyId: string | undefined;
      secretAccessKey: Secret | undefined;
    };

export interface ImagesConfig {
  store: ImageStoreConfig;
  /** Largest image downloaded (held in memory while it is archived). */
  maxBytes: number;
  /** Allow image URLs on private and loopback addresses. */
  allowPrivate: boolean;
  /** Whole-download timeout per image. */
  timeoutMs: number;
}

/** Named keys' tenants: spend quotas and fair share (`ATELIER_QUOTAS`, `ATELIER_TENANT_WEIGHTS`). */
export interface TenantsConfig {
  /**
   * Images per UTC day: per tenant, and `fallback` (`*:n`) for tenants not listed. A tenant
   * neither listed nor covered by a fallback has no quota.
   */
  quotas: { byTenant: Readonly<Record<string, number>>; fallback: number | undefined };
  /** Fair-share weights (default 1): a tenant of weight 2 is served twice as often as one of 1. */
  weights: Readonly<Record<string, number>>;
  /**
   * Within a priority, serve the work of different tenants in turn (`ATELIER_FAIR_SHARE`, on by
   * default; the API engages it only when its keys name more than one tenant). Off: FIFO.
   */
  fairShare: boolean;
}

export interface AtelierConfig {
  redisUrl: string | undefined;
  queuePrefix: string;
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Providers answered by the simulator (`ATELIER_SIMULATOR`, set by the embedded stack). */
  simulated: SimulatedProvider[];
  /** `ATELIER_API_KEYS`: each key acts for its tenant only. */
  apiKeys: TenantKey[];
  /** `ATELIER_ADMIN_KEYS`: each key acts for its tenant and may act on every tenant's work. */
  adminKeys: TenantKey[];
  tenants: TenantsConfig;
  admin: { user: string | undefined; password: Secret | undefined };
  drawing: DrawingConfig;
  cme: CmeConfig;
  retry: { baseMs: number; maxMs: number };
  callbacks: {
    secret: Secret | undefined;
    allowPrivateUrls: boolean;
    timeoutMs: number;
  };
  retention: Required<RetentionOptions>;
  images: ImagesConfig;
  worker: {
    queues: QueueName[];
    metricsPort: number | undefined;
    shutdownGraceMs: number;
    reconcileIntervalMs: number;
    /**
     * How often a worker tends steered batches (`ATELIER_STEERING_INTERVAL_MS`): the waiting
     * items of a cancelled batch are ended, the parked items of a resumed one released.
     */
    steeringIntervalMs: number;
    /**
     * The submit journal's directory (`ATELIER_JOURNAL_DIR`): drawing taskIds are appended to
     * it the moment a submit is answered, and applied to Redis when the worker starts again.
     * Unset: no journal (a worker killed between a paid submit and saving its taskId leaves
     * the job `SUBMIT_UNCONFIRMED`).
     */
    journalDir: string | undefined;
  };
  api: {
    rateLimitPerMin: number;
    bodyLimitBytes: number;
    batchMaxItems: number;
    /** Large batch bodies (over 1 MiB, or of unknown length) read at once by one API process. */
    maxConcurrentBatchUploads: number;
  };
}

/** Which process reads the config: decides which values are required. */
export type ConfigRole = 'worker' | 'api' | 'cli' | 'any';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const MIB = 1024 * 1024;

/**
 * Reads the whole configuration from the environment once, validates it, and throws a
 * `ConfigError` naming the variable and the rule at the first problem.
 */
export function loadConfig(env: Env = process.env, role: ConfigRole = 'any'): AtelierConfig {
  const e = new EnvReader(env);
  const positive = { min: 1 };
  const nonNegative = { min: 0 };

  const queuePrefix = e.string('ATELIER_QUEUE_PREFIX', 'atelier');
  if (queuePrefix.includes(':')) {
    throw new ConfigError('ATELIER_QUEUE_PREFIX', 'must not contain ":"');
  }
  const redisUrl = e.redisUrl('REDIS_URL');
  if (redisUrl?.startsWith('redis-cluster://') && !/^\{[^{}]+\}$/.test(queuePrefix)) {
    throw new ConfigError(
      'ATELIER_QUEUE_PREFIX',
      `must be a hash tag like {atelier} with a Redis Cluster REDIS_URL (all keys in one slot), got "${queuePrefix}"`,
    );
  }

  const drawing: DrawingConfig = {
    baseUrl: e.url('DRAWING_BASE_URL'),
    submitPath: e.path('DRAWING_SUBMIT_PATH'),
    queryPath: e.path('DRAWING_QUERY_PATH'),
    authMode: e.oneOf('DRAWING_AUTH_MODE', DRAWING_AUTH_MODES, 'apig'),
    appKey: e.string('DRAWING_APP_KEY'),
    appSecret: e.secret('DRAWING_APP_SECRET'),
    appCode: e.secret('DRAWING_APP_CODE'),
    requestTimeoutMs: e.int('DRAWING_REQUEST_TIMEOUT_MS', 15 * SECOND, positive),
    concurrency: e.int('DRAWING_CONCURRENCY', 50, { min: 1, max: 1000 }),
    poll: {
      firstMs: e.int('DRAWING_POLL_FIRST_MS', 8 * SECOND, nonNegative),
      intervalMs: e.int('DRAWING_POLL_INTERVAL_MS', 5 * SECOND, positive),
      maxIntervalMs: e.int('DRAWING_POLL_MAX_INTERVAL_MS', 30 * SECOND, positive),
      deadlineMs: e.int('DRAWING_POLL_DEADLINE_MS', 10 * MINUTE, positive),
      costMs: e.int('DRAWING_POLL_COST_MS', 1500, positive),
    },
    maintenanceBackoffMs: e.int('DRAWING_MAINTENANCE_BACKOFF_MS', 2 * MINUTE, positive),
    outageStreak: e.int('DRAWING_OUTAGE_STREAK', 5, positive),
    misrouteStreak: e.int('DRAWING_MISROUTE_STREAK', 5, positive),
    misrouteMinMs: e.int('DRAWING_MISROUTE_MS', 30 * SECOND, nonNegative),
    maintenanceMaxMs: e.int('DRAWING_MAINTENANCE_MAX_MS', 6 * 60 * MINUTE, positive),
    throttleMs: e.int('DRAWING_THROTTLE_MS', 1 * SECOND, positive),
    unconfirmedSubmitLimit: e.int('DRAWING_UNCONFIRMED_SUBMIT_LIMIT', 0, nonNegative),
    limits: {
      textMaxLength: e.int(
        'DRAWING_TEXT_MAX_LENGTH',
        DEFAULT_DRAWING_LIMITS.textMaxLength,
        positive,
      ),
      styles: e.list('DRAWING_STYLES', DEFAULT_DRAWING_LIMITS.styles),
      resolutions: e.list('DRAWING_RESOLUTIONS', DEFAULT_DRAWING_LIMITS.resolutions),
      numMax: e.int('DRAWING_NUM_MAX', DEFAULT_DRAWING_LIMITS.numMax, positive),
    },
  };
  if (drawing.poll.maxIntervalMs < drawing.poll.intervalMs) {
    throw new ConfigError(
      'DRAWING_POLL_MAX_INTERVAL_MS',
      `must be at least DRAWING_POLL_INTERVAL_MS (${drawing.poll.intervalMs})`,
    );
  }
  if (drawing.limits.styles.length === 0)
    throw new ConfigError('DRAWING_STYLES', 'must list at least one style');
  if (drawing.limits.resolutions.length === 0) {
    throw new ConfigError('DRAWING_RESOLUTIONS', 'must list at least one resolution');
  }
  for (const resolution of drawing.limits.resolutions) {
    if (!RESOLUTION_PATTERN.test(resolution)) {
      throw new ConfigError(
        'DRAWING_RESOLUTIONS',
        `must list resolutions as <width>*<height> (e.g. 1024*1024), got "${resolution}"`,
      );
    }
  }

  const cme: CmeConfig = {
    loginUrl: e.url('CME_LOGIN_URL', 'https://open.cme.qcloud.com'),
    apiBaseUrl: e.url('CME_API_BASE_URL', 'https://web-paas-api.cme.qcloud.com'),
    platform: e.string('CME_PLATFORM'),
    secretId: e.secret('CME_SECRET_ID'),
    secretKey: e.secret('CME_SECRET_KEY'),
    requestTimeoutMs: e.int('CME_REQUEST_TIMEOUT_MS', 15 * SECOND, positive),
    concurrency: e.int('CME_CONCURRENCY', 20, { min: 1, max: 1000 }),
    rateLimitPerSec: e.int('CME_RATE_LIMIT_PER_SEC', 20, positive),
    ticketMaxAgeMs: e.int('CME_TICKET_MAX_AGE_MS', 0, nonNegative),
    signatureValiditySec: e.int('CME_SIGNATURE_VALIDITY_SEC', 300, { min: 30, max: 86_400 }),
  };

  const queues = e.members('ATELIER_WORKER_QUEUES', ALL_QUEUES, {
    fallback: ALL_QUEUES,
    nonEmpty: true,
  });

  const config: AtelierConfig = {
    redisUrl,
    queuePrefix,
    port: e.int('PORT', 3000, { min: 0, max: 65_535 }),
    host: e.string('HOST', '0.0.0.0'),
    logLevel: e.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    simulated: e.members('ATELIER_SIMULATOR', SIMULATED_PROVIDERS),
    ...tenantKeys(e),
    tenants: tenants(e),
    admin: { user: e.string('ATELIER_ADMIN_USER'), password: e.secret('ATELIER_ADMIN_PASSWORD') },
    drawing,
    cme,
    retry: {
      baseMs: e.int('ATELIER_RETRY_BASE_MS', 1 * SECOND, positive),
      maxMs: e.int('ATELIER_RETRY_MAX_MS', 5 * MINUTE, positive),
    },
    callbacks: {
      secret: e.secret('ATELIER_CALLBACK_SECRET'),
      allowPrivateUrls: e.bool('ATELIER_CALLBACK_ALLOW_PRIVATE', false),
      timeoutMs: e.int('ATELIER_CALLBACK_TIMEOUT_MS', 10 * SECOND, positive),
    },
    retention: {
      completedAgeSec: e.int(
        'ATELIER_KEEP_COMPLETED_AGE_SEC',
        DEFAULT_RETENTION.completedAgeSec,
        positive,
      ),
      completedCount: e.int(
        'ATELIER_KEEP_COMPLETED_COUNT',
        DEFAULT_RETENTION.completedCount,
        positive,
      ),
      failedAgeSec: e.int('ATELIER_KEEP_FAILED_AGE_SEC', DEFAULT_RETENTION.failedAgeSec, positive),
      failedCount: e.int('ATELIER_KEEP_FAILED_COUNT', DEFAULT_RETENTION.failedCount, positive),
      batchAgeSec: e.int('ATELIER_KEEP_BATCH_AGE_SEC', DEFAULT_RETENTION.batchAgeSec, positive),
      deadLetterAgeSec: e.int(
        'ATELIER_DEAD_LETTER_AGE_SEC',
        DEFAULT_RETENTION.deadLetterAgeSec,
        positive,
      ),
    },
    images: {
      store: imageStore(e),
      maxBytes: e.int('ATELIER_IMAGE_MAX_BYTES', 20 * MIB, { min: 1024, max: 256 * MIB }),
      allowPrivate: e.bool('ATELIER_IMAGE_ALLOW_PRIVATE', false),
      timeoutMs: e.int('ATELIER_IMAGE_TIMEOUT_MS', 1 * MINUTE, positive),
    },
    worker: {
      queues,
      metricsPort: e.optionalInt('WORKER_METRICS_PORT', { min: 0, max: 65_535 }),
      shutdownGraceMs: e.int('ATELIER_SHUTDOWN_GRACE_MS', 30 * SECOND, nonNegative),
      reconcileIntervalMs: e.int('ATELIER_RECONCILE_INTERVAL_MS', 1 * MINUTE, positive),
      steeringIntervalMs: e.int('ATELIER_STEERING_INTERVAL_MS', 2 * SECOND, positive),
      journalDir: e.string('ATELIER_JOURNAL_DIR'),
    },
    api: {
      rateLimitPerMin: e.int('ATELIER_RATE_LIMIT_PER_MIN', 600, positive),
      bodyLimitBytes: e.int('ATELIER_BODY_LIMIT_BYTES', 64 * 1024 * 1024, { min: 1024 }),
      batchMaxItems: e.int('ATELIER_BATCH_MAX_ITEMS', 100_000, positive),
      maxConcurrentBatchUploads: e.int('ATELIER_MAX_CONCURRENT_BATCH_UPLOADS', 2, positive),
    },
  };

  requireForRole(config, role);
  return config;
}

/** `ATELIER_API_KEYS` and `ATELIER_ADMIN_KEYS`: every token differs across both. */
function tenantKeys(e: EnvReader): Pick<AtelierConfig, 'apiKeys' | 'adminKeys'> {
  const tokens = new Map<string, string>();
  return {
    apiKeys: e.tenantKeys('ATELIER_API_KEYS', tokens),
    adminKeys: e.tenantKeys('ATELIER_ADMIN_KEYS', tokens),
  };
}

function tenants(e: EnvReader): TenantsConfig {
  const quotas = e.namedNumbers('ATELIER_QUOTAS', { star: true, min: 0 });
  const fallback = quotas.get('*');
  quotas.delete('*');
  const weights = e.namedNumbers('ATELIER_TENANT_WEIGHTS', { decimal: true, min: 0.01, max: 1000 });
  return {
    quotas: { byTenant: Object.fromEntries(quotas), fallback },
    weights: Object.fromEntries(weights),
    fairShare: e.bool('ATELIER_FAIR_SHARE', true),
  };
}

/** The images per UTC day `tenant` may enqueue, or undefined (no quota). */
export function quotaOf(quotas: TenantsConfig['quotas'], tenant: string): number | undefined {
  return quotas.byTenant[tenant] ?? quotas.fallback;
}

/** Every tenant the API's keys name (API and admin keys), each once, in order. */
export function configuredTenants(config: Pick<AtelierConfig, 'apiKeys' | 'adminKeys'>): string[] {
  return [...new Set([...config.apiKeys, ...config.adminKeys].map((key) => key.tenant))];
}

const IMAGE_STORE_FORMS = 'none, fs:<dir> or s3://<bucket>/<prefix>';
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;

/** `ATELIER_IMAGE_STORE` and, for S3, the variables it needs; strict about the scheme. */
function imageStore(e: EnvReader): ImageStoreConfig {
  const raw = e.raw('ATELIER_IMAGE_STORE');
  if (raw === undefined || raw === 'none') return { kind: 'none' };
  if (raw.startsWith('fs:')) {
    const dir = raw.slice(3).trim();
    if (dir === '') {
      throw new ConfigError(
        'ATELIER_IMAGE_STORE',
        'fs: needs a directory, e.g. fs:/var/lib/atelier/images',
      );
    }
    return { kind: 'fs', dir };
  }
  if (!raw.startsWith('s3://')) {
    throw new ConfigError('ATELIER_IMAGE_STORE', `must be ${IMAGE_STORE_FORMS}, got "${raw}"`);
  }
  const [bucket = '', ...rest] = raw.slice(5).split('/');
  if (!S3_BUCKET.test(bucket)) {
    throw new ConfigError(
      'ATELIER_IMAGE_STORE',
      `s3:// needs a bucket name (3-63 of a-z, 0-9, "." and "-"), got "${bucket}"`,
    );
  }
  const prefix = rest.join('/').replace(/^\/+|\/+$/g, '');
  if (
    prefix !== '' &&
    (!S3_PREFIX.test(prefix) || prefix.split('/').some((s) => /^\.+$/.test(s)))
  ) {
    throw new ConfigError(
      'ATELIER_IMAGE_STORE',
      `the s3:// prefix must be path segments of letters, digits and !_.*'()- (no "." or ".." segments), got "${prefix}"`,
    );
  }
  const region = e.raw('AWS_REGION');
  if (region === undefined) {
    throw new ConfigError('AWS_REGION', 'is required when ATELIER_IMAGE_STORE is s3://…');
  }
  const accessKeyId = e.string('AWS_ACCESS_KEY_ID');
  const secretAccessKey = e.secret('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(
      accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY',
      'is required when the other AWS key variable is set (or leave both unset for the default credential chain)',
    );
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    region,
    endpoint: e.url('ATELIER_S3_ENDPOINT'),
    forcePathStyle: e.bool('ATELIER_S3_FORCE_PATH_STYLE', false),
    accessKeyId,
    secretAccessKey,
  };
}

function requireForRole(config: AtelierConfig, role: ConfigRole): void {
  if (role === 'worker') {
    if (config.worker.queues.includes('drawing')) requireDrawingProvider(config.drawing);
    if (config.worker.queues.includes('cme')) requireCmeProvider(config.cme);
  }
  if (role === 'api' && config.apiKeys.length === 0 && config.adminKeys.length === 0) {
    throw new ConfigError(
      'ATELIER_API_KEYS',
      'is required (or ATELIER_ADMIN_KEYS): comma-separated bearer tokens the HTTP API accepts, each name:token or a bare token (tenant default)',
    );
  }
  if (
    role === 'api' &&
    (config.admin.user === undefined) !== (config.admin.password === undefined)
  ) {
    const missing =
      config.admin.user === undefined ? 'ATELIER_ADMIN_USER' : 'ATELIER_ADMIN_PASSWORD';
    throw new ConfigError(missing, 'is required when the other dashboard login variable is set');
  }
}

const WHY_DRAWING = 'for the drawing worker (or leave "drawing" out of ATELIER_WORKER_QUEUES)';
const WHY_CME = 'for the CME worker (or leave "cme" out of ATELIER_WORKER_QUEUES)';

/** Throws unless the drawing provider endpoint and the credentials its auth mode needs are set. */
export function requireDrawingProvider(drawing: DrawingConfig): void {
  if (drawing.baseUrl === undefined)
    throw new ConfigError('DRAWING_BASE_URL', `is required ${WHY_DRAWING}`);
  if (drawing.submitPath === undefined)
    throw new ConfigError('DRAWING_SUBMIT_PATH', `is required ${WHY_DRAWING}`);
  if (drawing.queryPath === undefined)
    throw new ConfigError('DRAWING_QUERY_PATH', `is required ${WHY_DRAWING}`);
  switch (drawing.authMode) {
    case 'apig':
      if (drawing.appKey === undefined)
        throw new ConfigError('DRAWING_APP_KEY', 'is required when DRAWING_AUTH_MODE=apig');
      if (drawing.appSecret === undefined) {
        throw new ConfigError('DRAWING_APP_SECRET', 'is required when DRAWING_AUTH_MODE=apig');
      }
      break;
    case 'huawei-appcode':
    case 'aliyun-appcode':
      if (drawing.appCode === undefined) {
        throw new ConfigError(
          'DRAWING_APP_CODE',
          `is required when DRAWING_AUTH_MODE=${drawing.authMode}`,
        );
      }
      break;
    case 'none':
      break;
  }
}

/** Throws unless the CME platform and keys are set. */
export function requireCmeProvider(cme: CmeConfig): void {
  if (cme.platform === undefined) throw new ConfigError('CME_PLATFORM', `is required ${WHY_CME}`);
  if (cme.secretId === undefined) throw new ConfigError('CME_SECRET_ID', `is required ${WHY_CME}`);
  if (cme.secretKey === undefined)
    throw new ConfigError('CME_SECRET_KEY', `is required ${WHY_CME}`);
}
