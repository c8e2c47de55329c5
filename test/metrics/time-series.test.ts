import { createLogger } from '@atelier/shared';
import { createRedisConnection, STATS_FIELD, TimeSeries } from '@atelier/store';
import { AtelierWorker, StatsRecorder } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../support/capture-logger.ts';
import { CmeStack } from '../support/cme-stack.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const MINUTE = 60_000;
/** Longer than any of these tests: nothing is written before the worker closes. */
const NO_FLUSH_MS = 10 * MINUTE;

/** Every minute of the run so far, as one step (the run may straddle a minute boundary). */
async function runSeries(prefix: string, since: number) {
  const from = Math.floor(since / MINUTE) * MINUTE;
  const to = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
  return new TimeSeries(ctx.connection(), prefix).series({ from, to, stepMs: to - from });
}

async function statsKeyCount(prefix: string): Promise<number> {
  return (await ctx.connection().keys(`${prefix}:sys:stats:*`)).length;
}

describe('the time series a worker records', () => {
  it('counts completed, dead and retried jobs, latency, polls per task, provider codes and images per tenant in process, and writes them in one go', async () => {
    const stack = await DrawingStack.start(ctx, { statsFlushMs: NO_FLUSH_MS });
    stack.sim.script('polled three times', { query: [{ status: 0 }, { status: 0 }] });
    stack.sim.script('blocked', { submit: [{ code: 202, msg: 'content blocked' }] });
    stack.sim.script('busy provider', { submit: [{ code: 999 }] });
    const since = Date.now();
    const worker = await stack.startWorker();

    const done = [
      await stack.enqueue({ text: 'two pictures', num: 2 }),
      await stack.enqueue({ text: 'three pictures', num: 3 }),
      await stack.enqueue({ text: 'polled three times' }),
      await stack.enqueue({ text: 'busy provider' }),
    ];
    const dead = await stack.enqueue({ text: 'blocked' });
    for (const id of done) await stack.completed(id);
    await stack.dead(dead);
    // Counted in process only: not one Redis write per job.
    expect(await statsKeyCount(stack.prefix)).toBe(0);

    await worker.close();
    const series = await runSeries(stack.prefix, since);
    expect(series.times).toHaveLength(1);
    const drawing = series.queues.drawing;
    expect(drawing?.completed).toEqual([4]);
    expect(drawing?.dead).toEqual([1]);
    expect(drawing?.retried).toEqual([1]);
    expect(series.queues.cme?.completed).toEqual([0]);
    // Enqueue to completion took well under a minute for all four.
    expect(drawing?.latencyMs.p50[0]).toBeGreaterThan(0);
    expect(drawing?.latencyMs.p99[0]).toBeLessThanOrEqual(60_000);
    // Polls: 1 + 1 + 3 + 1 for the four tasks.
    expect(series.pollsPerTask.drawing).toEqual([1.5]);
    const codes = series.providerCodes.drawing ?? {};
    expect(codes['202']).toEqual([1]);
    expect(codes['999']).toEqual([1]);
    // Four submits and six queries answered 200.
    expect(codes['200']).toEqual([10]);
    expect(series.images).toEqual({ default: [2 + 3 + 1 + 1] });
  });

  it('CME: logins and answer codes, codes the specs do not name counted as other', async () => {
    const stack = await CmeStack.start(ctx);
    const [material] = stack.seedMaterials('u1', 1);
    stack.sim.script(
      'DescribeMaterials',
      [1, 2, 3].map((n) => ({ code: `Vendor.InventedCode${n}` })),
    );
    const since = Date.now();
    const worker = await AtelierWorker.start({
      config: stack.config,
      logger: stack.logs.logger,
      statsFlushMs: NO_FLUSH_MS,
    });
    ctx.onCleanup(() => worker.close(0));
    const ok = await stack.enqueue('u1', 'Material/ModifyMaterial', {
      MaterialId: material,
      Name: 'renamed',
    });
    // Unknown codes are retried a little (3 attempts), then dead-lettered.
    const refused = await stack.enqueue('u1', 'Material/DescribeMaterials', {
      MaterialIds: [material],
    });
    await stack.completed(ok);
    await stack.dead(refused);
    await worker.close();

    const series = await runSeries(stack.config.queuePrefix, since);
    expect(series.cmeLogins).toEqual({ ok: [1] });
    expect(series.providerCodes.cme).toEqual({ Success: [1], other: [3] });
    expect(series.queues.cme).toMatchObject({ completed: [1], dead: [1], retried: [2] });
    expect(JSON.stringify(series)).not.toContain('InventedCode');
  });

  it('a write Redis refuses is logged, its counts kept, and written with the next one; nothing rejects', async () => {
    const redis = await startRedisServer();
    ctx.onCleanup(() => redis.stop());
    const connection = createRedisConnection({ url: redis.url, role: 'worker' });
    ctx.onCleanup(async () => connection.disconnect());
    const logs = captureLogger('info');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    ctx.onCleanup(async () => process.off('unhandledRejection', onUnhandled));
    const series = new TimeSeries(connection, 'full');
    const recorder = new StatsRecorder({ sink: series, logger: logs.logger, flushIntervalMs: 20 });
    const completed = (n: number) => {
      for (let i = 0; i < n; i++) {
        recorder.step?.({ queue: 'drawing', step: 'done', action: 'complete', ageMs: 1500 });
      }
    };
    const since = Date.now();

    // Redis is full (noeviction): every write is refused.
    await connection.config('SET', 'maxmemory', '1');
    recorder.start();
    completed(3);
    await waitFor(() => logs.lines.some((line) => line.includes('could not write the counts')), {
      what: 'the failed write to be logged',
    });
    completed(2);
    await recorder.flush(); // refused again: logged once per streak, not once per try
    expect(logs.lines.filter((line) => line.includes('could not write')).length).toBe(1);

    await connection.config('SET', 'maxmemory', '0');
    await waitFor(() => logs.lines.some((line) => line.includes('written again')), {
      what: 'the write to succeed again',
    });
    completed(1);
    await recorder.close();
    const from = Math.floor(since / MINUTE) * MINUTE;
    const to = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
    const read = await series.series({ from, to, stepMs: to - from });
    expect(read.queues.drawing?.completed).toEqual([6]);
    expect(unhandled).toEqual([]);
  });

  it('bounded whatever the traffic: invented codes and unknown tenants do not add fields', async () => {
    const prefix = ctx.prefix('bounded');
    const series = new TimeSeries(ctx.connection(), prefix);
    const recorder = new StatsRecorder({
      sink: series,
      logger: createLogger({ name: 'test', level: 'silent' }),
      tenants: ['default', 'acme'],
    });
    for (let i = 0; i < 5000; i++) {
      recorder.drawingCall?.({
        operation: 'query',
        outcome: 'terminal',
        code: `VENDOR_${i}`,
        durationMs: 1,
      });
      recorder.step?.({
        queue: 'drawing',
        step: 'done',
        action: 'complete',
        ageMs: i * 997,
        tenant: i % 3 === 0 ? 'acme' : `tenant-${i}`,
        images: 1,
      });
      recorder.step?.({ queue: `queue-${i}`, step: 'done', action: 'complete', ageMs: 1 });
    }
    await recorder.close();
    const keys = await ctx.connection().keys(`${prefix}:sys:stats:*`);
    const fields = await ctx.connection().hkeys(keys[0] as string);
    expect(fields).toContain(STATS_FIELD.code('drawing', 'other'));
    expect(fields.filter((f) => f.startsWith('code|'))).toHaveLength(1);
    expect(fields.filter((f) => f.startsWith('img|')).sort()).toEqual([
      STATS_FIELD.images('acme'),
      STATS_FIELD.images('other'),
    ]);
    expect(fields.filter((f) => f.startsWith('q|'))).toEqual([
      STATS_FIELD.queue('drawing', 'completed'),
    ]);
    expect(fields.length).toBeLessThanOrEqual(1 + 2 + 1 + 15);
  });
});
