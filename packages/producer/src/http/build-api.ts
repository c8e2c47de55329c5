import { type AtelierConfig, configuredTenants, type Logger, usageDay } from '@atelier/shared';
import type { ImageStore } from '@atelier/store';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type AdminOptions, adminPlugin } from '../admin/index.ts';
import type { Producer } from '../lib/producer.ts';
import { RedisGuard } from '../lib/redis-guard.ts';
import { ApiKeyAuth } from './api-key-auth.ts';
import { ApiMetrics } from './api-metrics.ts';
import { apiSchemas } from './api-schemas.ts';
import { apiError, errorResponse } from './error-response.ts';
import { RateLimiter } from './rate-limiter.ts';
import { setCaller } from './request-caller.ts';
import { RequestLogController } from './request-log-controller.ts';
import type { RouteContext } from './route-context.ts';
import { batchRoutes } from './routes/batch-routes.ts';
import { deadLetterRoutes } from './routes/dead-letter-routes.ts';
import { enqueueRoutes } from './routes/enqueue-routes.ts';
import { imageRoutes } from './routes/image-routes.ts';
import { jobRoutes } from './routes/job-routes.ts';
import { opsRoutes } from './routes/ops-routes.ts';
import { statsRoutes } from './routes/stats-routes.ts';
import { usageRoutes } from './routes/usage-routes.ts';

export interface ApiOptions {
  readonly producer: Producer;
  readonly config: AtelierConfig;
  readonly logger: Logger;
  /**
   * The image archive (`openImageStore(config.images.store)`) that `GET /v1/images/*` serves;
   * the caller opens and closes it. Unset: every image key answers 404.
   */
  readonly images?: ImageStore;
  /**
   * The `/admin` dashboard, mounted by default (it is on when `config.admin` has a user and
   * password, else `/admin` answers 404 saying so): options beyond what the API already has
   * (`simulator: true` shows the SIMULATOR banner); `false` leaves `/admin` out entirely.
   */
  readonly admin?:
    | Omit<AdminOptions, 'producer' | 'config' | 'redis' | 'prefix' | 'logger'>
    | false;
  /**
   * How often the API closes batches without an idempotency key whose enqueue was cut off
   * (`producer.closeAbandonedBatches`) and gives back usage reservations whose enqueue never
   * finished (`producer.settleReservations`); `false`: never. Default every 15 s.
   */
  readonly batchSweep?: { intervalMs: number } | false;
}

const BATCH_SWEEP_INTERVAL_MS = 15_000;

/**
 * API options for a process that read `AtelierConfig` (`bin/api.ts`): the dashboard shows the
 * SIMULATOR banner when `ATELIER_SIMULATOR` names a provider.
 */
export function apiOptionsFromConfig(
  config: AtelierConfig,
  extra: { producer: Producer; logger: Logger; images?: ImageStore },
): ApiOptions {
  return { ...extra, config, admin: { simulator: config.simulated.length > 0 } };
}

/**
 * Longest path parameter the router takes. Ids carry the caller's idempotency key (`dr_<key>`
 * with up to 120 readable characters, batch items `dr_b_<key>~<index>`): Fastify's default of
 * 100 would refuse ids the API itself handed out.
 */
const MAX_PARAM_LENGTH = 256;
/** Methods a 405 may name in `Allow` (HEAD comes with every GET route). */
const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The HTTP API as a Fastify instance (tests `inject` or `listen`; `bin/api.ts` listens).
 * `/v1/*` requires `Authorization: Bearer <key>` and is rate-limited per key (in Redis, so
 * all replicas share the limit); health, readiness, metrics and the OpenAPI document do not.
 * Every error leaves through `errorResponse`, the router's own and `SHUTTING_DOWN` (503, for
 * requests that arrive on an open connection while the server closes) included.
 */
export function buildApi(options: ApiOptions): FastifyInstance {
  const { producer, config, logger } = options;
  const sendError = (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = errorResponse(error);
    if (answer.statusCode >= 500) {
      const { code } = answer.body.error;
      const level = code === 'REDIS_UNAVAILABLE' || code === 'SHUTTING_DOWN' ? 'warn' : 'error';
      request.log[level]({ err: error }, 'request failed');
    }
    return reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
  };
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.api.bodyLimitBytes,
    logController: new RequestLogController(),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors the router raises before any route (a bad %-escape in the path) keep the API's shape.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
    // Requests arriving while the server closes are answered below, in the API's error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');

  const tenants = configuredTenants(config);
  const metrics = new ApiMetrics({
    stats: () => producer.stats(),
    tenants,
    imagesToday: async (tenant) => {
      const { days } = await producer.usage({ tenant, from: today(), to: today() });
      return days[0]?.images ?? 0;
    },
  });
  const ctx: RouteContext = {
    producer,
    images: options.images,
    config,
    schemas: apiSchemas(config.drawing.limits),
    metrics,
    logger,
  };
  const auth = new ApiKeyAuth({ api: config.apiKeys, admin: config.adminKeys });
  const limiter = new RateLimiter({
    redis: producer.redis,
    guard: new RedisGuard(producer.redis),
    prefix: producer.prefix,
    limit: config.api.rateLimitPerMin,
  });

  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // The path exists with other methods: 405 and `Allow`, not 404.
    const allowed = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    const wrongMethod = allowed.length > 0;
    const answer = errorResponse(
      wrongMethod
        ? apiError(
            'METHOD_NOT_ALLOWED',
            `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
            { details: { allowed } },
          )
        : Object.assign(new Error(`no route ${request.method} ${path}`), { code: 'NOT_FOUND' }),
    );
    if (wrongMethod) reply.header('allow', allowed.join(', '));
    return reply.code(answer.statusCode).send(answer.body);
  });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) {
      throw apiError('SHUTTING_DOWN', 'the server is shutting down: send the request again', {
        retryAfterMs: 1000,
      });
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime);
  });

  if (options.batchSweep !== false) {
    const intervalMs = options.batchSweep?.intervalMs ?? BATCH_SWEEP_INTERVAL_MS;
    sweepBatches(app, producer, logger, intervalMs);
  }

  opsRoutes(app, ctx);
  app.register(
    async (v1) => {
      v1.addHook('onRequest', async (request, reply) => {
        const caller = auth.authenticate(request.headers.authorization);
        // Every line logged for the request names the tenant (never the key).
        request.log = request.log.child({ tenant: caller.tenant });
        reply.log = request.log;
        setCaller(request, caller, producer);
        await limiter.hit(caller.fingerprint);
      });
      enqueueRoutes(v1, ctx);
      jobRoutes(v1, ctx);
      deadLetterRoutes(v1, ctx);
      imageRoutes(v1, ctx);
      usageRoutes(v1, ctx);
      statsRoutes(v1, ctx);
      await v1.register(async (scope) => batchRoutes(scope, ctx));
    },
    { prefix: '/v1' },
  );
  if (options.admin !== false) {
    const { redis, prefix } = producer;
    const images = options.images ? { images: options.images } : {};
    app.register(
      adminPlugin({ producer, config, logger, redis, prefix, ...images, ...options.admin }),
    );
  }
  return app;
}

function today(): string {
  return usageDay(Date.now());
}

/** Runs the batch sweep every `intervalMs` while the server is up (from ready to close). */
function sweepBatches(
  app: FastifyInstance,
  producer: Producer,
  logger: Logger,
  intervalMs: number,
): void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    running = producer
      .closeAbandonedBatches()
      .then(async (closed) => {
        if (closed.length > 0) logger.info({ batchIds: closed }, 'cut-off batches closed');
        const givenBack = await producer.settleReservations();
        if (givenBack > 0) logger.info({ givenBack }, 'unfinished enqueues gave their usage back');
      })
      .catch((err: unknown) => logger.warn({ err }, 'batch sweep failed; trying again later'))
      .finally(() => {
        running = undefined;
        if (timer) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  app.addHook('onReady', async () => {
    timer = setTimeout(tick, intervalMs).unref();
  });
  app.addHook('preClose', async () => {
    clearTimeout(timer);
    timer = undefined;
    await running;
  });
}
