import { ConfigError, createLogger, loadConfig } from '@atelier/shared';
import { startMetricsServer } from '../metrics/metrics-server.ts';
import { WorkerMetrics } from '../metrics/worker-metrics.ts';
import { AtelierWorker } from '../worker-process.ts';

/** `pnpm --filter @atelier/worker start`: one worker process for the configured queues. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, 'worker');
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`atelier worker: configuration error: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  if (!config.redisUrl) {
    process.stderr.write('atelier worker: configuration error: REDIS_URL: is required\n');
    process.exit(78);
  }
  const logger = createLogger({ name: 'atelier-worker', level: config.logLevel });
  if (config.simulated.length > 0) {
    logger.warn(
      { simulated: config.simulated },
      `SIMULATOR: ${config.simulated.join(' and ')} provider(s) are simulated`,
    );
  }
  const metrics = new WorkerMetrics();
  const worker = await AtelierWorker.start({ config, logger, observer: metrics });
  const metricsServer =
    config.worker.metricsPort === undefined
      ? undefined
      : await startMetricsServer(metrics, config.worker.metricsPort);
  logger.info(
    { queues: worker.queues.map((q) => q.name), metricsPort: metricsServer?.port },
    'worker started',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(
      { signal, graceMs: config.worker.shutdownGraceMs },
      'stopping: finishing active jobs',
    );
    worker
      .close(config.worker.shutdownGraceMs)
      .then(() => metricsServer?.close())
      .then(() => {
        logger.info('worker stopped');
        process.exit(0);
      })
      .catch((err) => {
        logger.error({ err }, 'worker did not stop cleanly');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`atelier worker: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
