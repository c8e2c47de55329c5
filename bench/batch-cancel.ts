/**
 * Cancelling a 100,000-item batch that no worker has started (every item waiting: the worst
 * case for the cancel's pass): time until the cancel answers (from then on nothing of the batch
 * is submitted) and until the batch is `cancelled` (every waiting item ended by the producer's
 * pass, a chunk of 250 items per script), and the longest single script call of the pass (how
 * long Redis is held at a time; calls over 1 ms are logged). Baseline, same Redis: BullMQ's own `Queue.remove` of 100k
 * waiting jobs, pipelined 250 at a time — what removing them without any bookkeeping costs.
 *
 *   node bench/batch-cancel.ts [--items 100000]
 */
import { parseArgs } from 'node:util';
import { createProducer } from '@atelier/producer';
import { batchItemJobId, createLogger } from '@atelier/shared';
import { createRedisConnection } from '@atelier/store';
import { Queue } from 'bullmq';
import { startRedisServer } from '../test/support/redis-server.ts';
import { fixed } from './support/stats.ts';

const { values } = parseArgs({ options: { items: { type: 'string', default: '100000' } } });
const ITEMS = Number(values.items);
const item = (i: number) => ({
  text: `第 ${i} 张: a lighthouse at dusk`,
  style: '油画',
  resolution: '1024*1024',
});

const redis = await startRedisServer();
const logger = createLogger({ name: 'bench', level: 'warn' });

async function batchOf(prefix: string) {
  const producer = createProducer({
    redisUrl: redis.url,
    prefix,
    logger,
    batchMaxItems: Math.max(ITEMS, 100_000),
  });
  await producer.ready();
  const { id } = await producer.createBatch(Array.from({ length: ITEMS }, (_, i) => item(i)));
  return { producer, id };
}

try {
  // Atelier: the cancel, then its pass.
  const { producer, id } = await batchOf('bench-cancel');
  const monitor = createRedisConnection({ url: redis.url, role: 'worker' });
  await monitor.config('SET', 'slowlog-log-slower-than', '1000');
  await monitor.config('SET', 'slowlog-max-len', '100000');
  await monitor.slowlog('RESET');
  const started = performance.now();
  const answered = await producer.cancelBatch(id);
  const answerMs = performance.now() - started;
  for (;;) {
    const batch = await producer.getBatch(id);
    if (batch.state === 'cancelled') break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const cancelledMs = performance.now() - started;
  const slow = (await monitor.slowlog('GET', 100_000)) as Array<[number, number, number, string[]]>;
  const longestScriptMs =
    Math.max(0, ...slow.filter((e) => /^eval/i.test(e[3][0] ?? '')).map((e) => e[2])) / 1000;
  await producer.close();

  // Baseline: BullMQ removes the same number of waiting jobs (no ledger, no record).
  const baseline = await batchOf('bench-remove');
  const start2 = performance.now();
  const q = new Queue('drawing', { connection: monitor, prefix: 'bench-remove' });
  for (let from = 0; from < ITEMS; from += 250) {
    const ids = Array.from({ length: Math.min(250, ITEMS - from) }, (_, i) =>
      batchItemJobId(baseline.id, from + i),
    );
    await Promise.all(ids.map((jobId) => q.remove(jobId)));
  }
  const removeMs = performance.now() - start2;
  await q.close();
  await baseline.producer.close();
  monitor.disconnect();

  console.log(`items: ${ITEMS}`);
  console.log(`cancel answered (state ${answered.state}): ${fixed(answerMs, 1)} ms`);
  console.log(`batch cancelled (every item ended): ${fixed(cancelledMs / 1000, 2)} s`);
  console.log(`longest script call of the pass: ${fixed(longestScriptMs, 2)} ms`);
  console.log(`baseline, BullMQ Queue.remove of the same jobs: ${fixed(removeMs / 1000, 2)} s`);
  console.log(`ratio cancelled / baseline: ${fixed(cancelledMs / removeMs, 2)}`);
} finally {
  await redis.stop();
}
