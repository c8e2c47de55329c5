import { atelierKeys } from '@atelier/shared';
import { type BatchItemResult, BatchLedger } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { betweenReads } from '../support/between-reads.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('batch results while the batch expires', () => {
  it('never lists the items of a completed batch as pending: every line, or not found', async () => {
    const api = await startApi(ctx);
    const { producer, prefix } = api;
    const { id } = await producer.createBatch([DRAWING, DRAWING]);
    const ledger = new BatchLedger(ctx.connection(), prefix);
    for (const index of [0, 1]) {
      const jobId = `dr_${id}~${index}`;
      await ledger.settle(id, { index, jobId, state: 'completed', images: [`${index}.png`] });
    }
    expect((await producer.getBatch(id)).state).toBe('completed');

    // Retention's expiry of the record and its lines, between the reads of one listing.
    const keys = atelierKeys(prefix).batch;
    const redis = ctx.connection();
    const hook = betweenReads(producer.redis, keys.meta(id), () =>
      redis.del(keys.meta(id), keys.items(id)),
    );
    const lines: BatchItemResult[] = [];
    const outcome = await (async () => {
      for await (const line of producer.batchResults(id)) lines.push(line);
    })().then(
      () => 'listed',
      (error: { code?: string }) => error.code,
    );
    hook.restore();

    expect(hook.after).toBeDefined();
    if (outcome === 'listed') {
      expect(lines.map((line) => line.state)).toEqual(['completed', 'completed']);
    } else {
      expect({ outcome, lines }).toEqual({ outcome: 'NOT_FOUND', lines: [] });
    }
  });
});
