import {
  ConfigError,
  createLogger,
  guardProcess,
  handleShutdown,
  loadConfig,
} from '@atelier/shared';
import { openImageStore } from '@atelier/store';
import { apiOptionsFromConfig, buildApi } from '../http/index.ts';
import { createProducer, producerOptionsFromConfig } from '../index.ts';

/**
 * The API process (`pnpm --filter @atelier/producer start`): config once, then listen on
 * HOST:PORT. SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the queues
 * and Redis, exit — within ATELIER_SHUTDOWN_GRACE_MS whatever Redis does (a second signal: at
 * once).
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, 'api');
    if (config.redisUrl === undefined) {
      throw new ConfigError(
        'REDIS_URL',
        'is required by the API (pnpm start runs a local Redis itself)',
      );
    }
  } catch (error) {
    process.stderr.write(`atelier-api: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ name: 'atelier-api', level: config.logLevel });
  guardProcess(logger);
  const producer = createProducer(producerOptionsFromConfig(config, { logger }));
  const images = await openImageStore(config.images.store);
  const app = buildApi(
    apiOptionsFromConfig(config, { producer, logger, ...(images ? { images } : {}) }),
  );
  app.addHook('onClose', async () => {
    images?.close();
    await producer.close();
  });

  // In-flight requests get the grace period; then the process exits whatever Redis does.
  let stopping = false;
  handleShutdown({
    logger,
    deadlineMs: config.worker.shutdownGraceMs,
    async stop(signal) {
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      await app.close();
      logger.info('stopped');
      return 0;
    },
  });

  await producer.ready(10_000).catch((err: unknown) => {
    logger.warn({ err }, 'Redis not reachable yet; serving 503 until it is');
  });
  // Stopped while waiting for Redis: nothing to listen for.
  if (stopping) return;
  const address = await app.listen({ host: config.host, port: config.port });
  logger.info({ address }, 'Atelier API listening');
}

await main();
