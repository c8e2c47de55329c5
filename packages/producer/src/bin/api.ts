import { ConfigError, createLogger, loadConfig } from '@atelier/shared';
import { openImageStore } from '@atelier/store';
import { apiOptionsFromConfig, buildApi } from '../http/index.ts';
import { createProducer, producerOptionsFromConfig } from '../index.ts';

/**
 * The API process (`pnpm --filter @atelier/producer start`): config once, then listen on
 * HOST:PORT. SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to
 * ATELIER_SHUTDOWN_GRACE_MS), close the queues and Redis, exit.
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
  const producer = createProducer(producerOptionsFromConfig(config, { logger }));
  const images = await openImageStore(config.images.store);
  const app = buildApi(
    apiOptionsFromConfig(config, { producer, logger, ...(images ? { images } : {}) }),
  );
  app.addHook('onClose', async () => {
    images?.close();
    await producer.close();
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown grace period over; exiting');
      process.exit(1);
    }, config.worker.shutdownGraceMs);
    force.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await producer.ready(10_000).catch((err: unknown) => {
    logger.warn({ err }, 'Redis not reachable yet; serving 503 until it is');
  });
  const address = await app.listen({ host: config.host, port: config.port });
  logger.info({ address }, 'Atelier API listening');
}

await main();
