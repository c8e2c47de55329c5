/**
 * One drawing worker process for the pending benchmark: the worker exactly as
 * `pnpm --filter @atelier/worker start` runs it (config from the environment), plus an
 * observer that records poll lateness. On the parent's `report` message it answers with the
 * lateness samples' summary and its own peak RSS, then exits.
 */
import { createLogger, loadConfig } from '@atelier/shared';
import { AtelierWorker } from '@atelier/worker';
import { peakRssMb, percentile } from './stats.ts';

const config = loadConfig(process.env, 'worker');
const lateness: number[] = [];
const worker = await AtelierWorker.start({
  config,
  logger: createLogger({ name: 'bench-worker', level: 'warn' }),
  observer: { drawingPoll: (event) => lateness.push(event.lateMs) },
});
process.send?.({ ready: true });
process.on('message', async (message: { report?: boolean }) => {
  if (!message.report) return;
  const peak = peakRssMb();
  const memory = process.memoryUsage();
  await worker.close();
  process.send?.({
    polls: lateness.length,
    p50: percentile(lateness, 50),
    p99: percentile(lateness, 99),
    max: lateness.reduce((a, b) => Math.max(a, b), 0),
    peakRssMb: peak,
    heapTotalMb: memory.heapTotal / 1048576,
    heapUsedMb: memory.heapUsed / 1048576,
    externalMb: memory.external / 1048576,
  });
  process.disconnect();
});
