import {
  createProducer,
  type Producer,
  type ProducerOptions,
  producerOptionsFromConfig,
} from '@atelier/producer';
import { type ApiOptions, buildApi } from '@atelier/producer/http';
import {
  type AtelierConfig,
  type CmeJobData,
  type DrawingJobData,
  type HostResolver,
  loadConfig,
  QUEUE_NAMES,
} from '@atelier/shared';
import { type ImageStore, openImageStore } from '@atelier/store';
import { Queue } from 'bullmq';
import { captureLogger } from '../support/capture-logger.ts';
import type { RedisTestContext } from '../support/redis-context.ts';

export const API_KEY = 'test-key-1';
export const OTHER_KEY = 'test-key-2';

export const DRAWING = { text: '一只猫 in the rain', style: '油画', resolution: '1024*1024' };
export const CME = {
  userId: 'user_001',
  action: 'Material/DeleteMaterial',
  params: { MaterialId: 'mat-1' },
} as const;

/** Resolves every host to a public address (no DNS in tests). */
export const publicResolver: HostResolver = async () => [{ address: '93.184.216.34', family: 4 }];

export type ApiServer = ReturnType<typeof buildApi>;

export interface CallOptions {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  url: string;
  /** Objects are sent as JSON. */
  payload?: string | Buffer | object;
  headers?: Record<string, string>;
  /** API key to send; `false` sends no Authorization header. */
  auth?: string | false;
}

export interface CallResult {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers.
  json(): any;
}

export interface ApiHarnessOptions {
  /** Environment on top of the defaults (REDIS_URL, prefix, API keys). */
  env?: Record<string, string>;
  /** Reuse a prefix (a second API instance on the same deployment). */
  prefix?: string;
  redisUrl?: string;
  resolve?: HostResolver;
  /** Producer options on top of those read from the environment (tuning: chunk size, lease). */
  producer?: Partial<ProducerOptions>;
  /** Level of the captured log (default `info`). */
  logLevel?: string;
  /** API options beyond the producer, config and logger (the batch sweep). */
  api?: Partial<Pick<ApiOptions, 'batchSweep'>>;
}

export interface ApiHarness {
  app: ApiServer;
  producer: Producer;
  config: AtelierConfig;
  prefix: string;
  logs: ReturnType<typeof captureLogger>;
  drawingQueue: Queue<DrawingJobData>;
  cmeQueue: Queue<CmeJobData>;
  /** The image store the config names (`ATELIER_IMAGE_STORE`), served by `GET /v1/images/*`. */
  images: ImageStore | undefined;
  /** `app.inject` with the API key (unless `auth` says otherwise) and JSON bodies. */
  call(options: CallOptions): Promise<CallResult>;
}

/** An API (Fastify instance + producer) on a fresh prefix; closed by the context's cleanup. */
export async function startApi(
  ctx: RedisTestContext,
  options: ApiHarnessOptions = {},
): Promise<ApiHarness> {
  const prefix = options.prefix ?? ctx.prefix('api');
  const config = loadConfig(
    {
      REDIS_URL: options.redisUrl ?? ctx.url,
      ATELIER_QUEUE_PREFIX: prefix,
      ATELIER_API_KEYS: `${API_KEY},${OTHER_KEY}`,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    'api',
  );
  const logs = captureLogger(options.logLevel ?? 'info');
  const base = producerOptionsFromConfig(config, { logger: logs.logger });
  const producer = createProducer({
    ...base,
    callbacks: {
      ...(base.callbacks ?? { enabled: false, allowPrivateUrls: false }),
      resolve: options.resolve ?? publicResolver,
    },
    ...options.producer,
  });
  const images = await openImageStore(config.images.store);
  const app = buildApi({
    producer,
    config,
    logger: logs.logger,
    ...(images ? { images } : {}),
    ...options.api,
  });
  const connection = ctx.connection();
  connection.on('error', () => undefined); // outage tests kill Redis under it
  const drawingQueue = new Queue<DrawingJobData>(QUEUE_NAMES.drawing, { connection, prefix });
  const cmeQueue = new Queue<CmeJobData>(QUEUE_NAMES.cme, { connection, prefix });
  for (const queue of [drawingQueue, cmeQueue]) queue.on('error', () => undefined);
  ctx.onCleanup(async () => {
    await app.close();
    await producer.close();
    await drawingQueue.close();
    await cmeQueue.close();
    images?.close();
  });
  await producer.ready();
  return {
    app,
    producer,
    config,
    prefix,
    logs,
    drawingQueue,
    cmeQueue,
    images,
    async call({ auth, headers, ...rest }) {
      const key = auth === undefined ? API_KEY : auth;
      return app.inject({
        ...rest,
        headers: { ...(key === false ? {} : { authorization: `Bearer ${key}` }), ...headers },
      }) as Promise<CallResult>;
    },
  };
}
