/**
 * A worker process for failure tests: `node test/support/worker-child.ts` with the Atelier
 * environment. Prints "ready" once it takes jobs. TEST_LOCK_DURATION_MS / TEST_STALLED_INTERVAL_MS
 * shorten BullMQ's lock and stall timings so a killed process is noticed quickly.
 */
import { createLogger, loadConfig } from '@atelier/shared';
import { AtelierWorker } from '@atelier/worker';

const config = loadConfig(process.env, 'worker');
const logger = createLogger({ name: 'worker-child', level: process.env.LOG_LEVEL ?? 'warn' });
const lockDuration = Number(process.env.TEST_LOCK_DURATION_MS ?? 30_000);
const stalledInterval = Number(process.env.TEST_STALLED_INTERVAL_MS ?? 30_000);
const maxStalledCount = Number(process.env.TEST_MAX_STALLED_COUNT ?? 10);
const worker = await AtelierWorker.start({
  config,
  logger,
  workerOptions: { lockDuration, stalledInterval, maxStalledCount },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  worker.close(config.worker.shutdownGraceMs).then(() => process.exit(0));
});
