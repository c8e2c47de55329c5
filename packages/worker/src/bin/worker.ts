import {
  ConfigError,
  createLogger,
  guardProcess,
  handleShutdown,
  loadConfig,
} from '@atelier/shared';
import { startMetricsServer } from '../metrics/metrics-server.ts';
import { WorkerMetrics } from '../metrics/worker-metrics.ts';
import { AtelierWorker } from '../worker-process.ts';

/** Past `ATELIER_SHUTDOWN_GRACE_MS`, how long stopping may take before the process exits anyway. */
const SHUTDOWN_MARGIN_MS = 4500;

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
  guardProcess(logger);
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

  const graceMs = config.worker.shutdownGraceMs;
  handleShutdown({
    logger,
    // The worker's own stop takes at most grace + 4 s (hand-back, force, closers); this is the
    // hard limit of the process whatever Redis does.
    deadlineMs: graceMs + SHUTDOWN_MARGIN_MS,
    async stop(signal) {
      logger.info({ signal, graceMs }, 'stopping: finishing active jobs');
      await worker.close(graceMs);
      await metricsServer?.close();
      logger.info('worker stopped');
      return 0;
    },
  });
}

main().catch((error) => {
  process.stderr.write(`atelier worker: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
