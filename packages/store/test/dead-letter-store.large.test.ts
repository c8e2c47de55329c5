import { atelierKeys } from '@atelier/shared';
import { DeadLetterStore, type RedisClient } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { T0 } from './support/store-fixtures.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ENTRIES = 150_000;
/** Every 50th entry is a CME one; every 10th drawing entry belongs to batch b1. */
const isCme = (i: number) => i % 50 === 0;
const inBatch = (i: number) => !isCme(i) && i % 10 === 1;

/**
 * Files `count` dead letters the way the store's insert does (entry, time index, code, queue,
 * batch indexes, code counts), thousands per script call: 150,000 inserts one by one would
 * take minutes. Entry i failed at T0 + i seconds, code POLL_TIMEOUT.
 */
async function fileMany(redis: RedisClient, prefix: string, count: number): Promise<void> {
  const k = atelierKeys(prefix).deadLetters;
  const keys = [
    k.entries,
    k.byTime,
    k.byCode('POLL_TIMEOUT'),
    k.byQueue('drawing'),
    k.byQueue('cme'),
    k.byBatch('b1'),
    k.codes,
  ];
  const script = `
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local cme = i % 50 == 0
  local batch = (not cme) and i % 10 == 1
  local id = (cme and 'cm_' or 'dr_') .. i
  local at = tonumber(ARGV[3]) + i * 1000
  local queue = cme and 'cme' or 'drawing'
  local meta = batch and ('{"enqueuedAt":0,"batchId":"b1","batchIndex":' .. i .. '}') or '{"enqueuedAt":0}'
  redis.call('HSET', KEYS[1], id, '{"id":"' .. id .. '","queue":"' .. queue .. '","kind":"' .. queue ..
    '","code":"POLL_TIMEOUT","message":"gave up","attempts":1,"history":[],"request":{},"meta":' ..
    meta .. ',"failedAt":' .. at .. '}')
  redis.call('ZADD', KEYS[2], at, id)
  redis.call('ZADD', KEYS[3], at, id)
  redis.call('ZADD', cme and KEYS[5] or KEYS[4], at, id)
  if batch then redis.call('ZADD', KEYS[6], at, id) end
  redis.call('HINCRBY', KEYS[7], 'POLL_TIMEOUT', 1)
end`;
  for (let from = 0; from < count; from += 10_000) {
    const to = Math.min(count, from + 10_000) - 1;
    await redis.eval(script, keys.length, ...keys, from, to, T0);
  }
}

describe('DeadLetterStore with 150,000 entries', () => {
  it('filters on two and three fields a bounded chunk at a time: totals, pages and every matching id', {
    timeout: 60_000,
  }, async () => {
    const redis = ctx.connection();
    const prefix = ctx.prefix('dlq-large');
    const store = new DeadLetterStore(redis, prefix);
    await fileMany(redis, prefix, ENTRIES);
    const drawing = Array.from({ length: ENTRIES }, (_, i) => i).filter((i) => !isCme(i));
    const newest = drawing.at(-1) as number;

    // Two fields whose indexes both hold more than 140,000 entries.
    const twoFields = { queue: 'drawing', code: 'POLL_TIMEOUT' };
    const page = await store.list(twoFields, { offset: 10, limit: 5 });
    expect(page.total).toBe(drawing.length);
    expect(page.items.map((entry) => entry.id)).toEqual(
      drawing
        .slice(-15, -10)
        .reverse()
        .map((i) => `dr_${i}`),
    );
    expect((await store.list(twoFields, { offset: 0, limit: 1 })).items[0]?.id).toBe(
      `dr_${newest}`,
    );

    // Three fields and a time range.
    const since = T0 + 50_000 * 1000;
    const threeFields = { ...twoFields, batchId: 'b1', since };
    const batchItems = drawing.filter((i) => inBatch(i) && T0 + i * 1000 >= since);
    const batchPage = await store.list(threeFields, { limit: 3 });
    expect(batchPage.total).toBe(batchItems.length);
    expect(batchPage.items.map((entry) => entry.id)).toEqual(
      batchItems
        .slice(-3)
        .reverse()
        .map((i) => `dr_${i}`),
    );

    // Every matching id, newest first, in chunks no larger than asked for.
    let seen = 0;
    let previous = Number.POSITIVE_INFINITY;
    let largest = 0;
    for await (const chunk of store.matchingIds(twoFields, 5000)) {
      largest = Math.max(largest, chunk.length);
      for (const id of chunk) {
        const i = Number(id.slice(3));
        expect(i).toBeLessThan(previous);
        previous = i;
        seen++;
      }
    }
    expect(seen).toBe(drawing.length);
    expect(largest).toBeLessThanOrEqual(5000);
  });
});
