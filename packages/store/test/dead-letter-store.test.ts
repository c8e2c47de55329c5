import { atelierKeys } from '@atelier/shared';
import { type DeadLetterFilter, DeadLetterStore, type RedisClient } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { deadLetter, T0 } from './support/store-fixtures.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

function setup() {
  const redis = ctx.connection();
  const prefix = ctx.prefix('dlq');
  return { redis, prefix, store: new DeadLetterStore(redis, prefix) };
}

/** Five entries, one a minute: codes, queues and a batch mixed. */
async function fill(store: DeadLetterStore): Promise<void> {
  const rows = [
    ['d1', 'drawing', 'POLL_TIMEOUT', undefined],
    ['d2', 'drawing', '202', 'b1'],
    ['c3', 'cme', '202', undefined],
    ['d4', 'drawing', '202', 'b1'],
    ['c5', 'cme', 'AuthFailure', undefined],
  ] as const;
  for (const [i, [id, queue, code, batchId]] of rows.entries()) {
    await store.insert(
      deadLetter(id, {
        queue,
        kind: queue,
        code,
        failedAt: T0 + i * 60_000,
        meta: { enqueuedAt: T0, ...(batchId ? { batchId, batchIndex: i } : {}) },
      }),
    );
  }
}

const ids = (page: { items: { id: string }[] }) => page.items.map((item) => item.id);

/** Every id matching a filter, newest first. */
async function matching(store: DeadLetterStore, filter: DeadLetterFilter): Promise<string[]> {
  const all: string[] = [];
  for await (const chunk of store.matchingIds(filter)) all.push(...chunk);
  return all;
}

describe('DeadLetterStore', () => {
  it('insert is idempotent per job id: the first filing stays', async () => {
    const { store } = setup();
    const first = deadLetter('dr_1');
    expect(await store.has('dr_1')).toBe(false);
    expect(await store.get('dr_1')).toBeUndefined();
    expect(await store.insert(first)).toBe(true);
    expect(await store.insert(deadLetter('dr_1', { code: '202', failedAt: T0 + 1 }))).toBe(false);
    expect(await store.get('dr_1')).toEqual(first);
    expect(await store.has('dr_1')).toBe(true);
    expect(await store.count()).toBe(1);
    expect(await store.countByCode()).toEqual({ POLL_TIMEOUT: 1 });
    expect(await store.list({ code: '202' })).toEqual({ items: [], total: 0 });
  });

  it('lists newest first, by any mix of queue, code, batch and time, a page at a time', async () => {
    const { store } = setup();
    await fill(store);
    const all = await store.list();
    expect(all.total).toBe(5);
    expect(ids(all)).toEqual(['c5', 'd4', 'c3', 'd2', 'd1']);
    expect(ids(await store.list({ code: '202' }))).toEqual(['d4', 'c3', 'd2']);
    expect(ids(await store.list({ code: '202', queue: 'drawing' }))).toEqual(['d4', 'd2']);
    expect(ids(await store.list({ batchId: 'b1', code: 'POLL_TIMEOUT' }))).toEqual([]);
    expect(ids(await store.list({ since: T0 + 60_000, until: T0 + 180_000 }))).toEqual([
      'd4',
      'c3',
      'd2',
    ]);
    expect(await store.list({ queue: 'drawing', since: T0 + 60_000 })).toMatchObject({
      total: 2,
    });

    const page = await store.list({}, { offset: 1, limit: 2 });
    expect({ total: page.total, ids: ids(page) }).toEqual({ total: 5, ids: ['d4', 'c3'] });
    const checked = await store.list({ code: '202', queue: 'drawing' }, { offset: 1, limit: 5 });
    expect({ total: checked.total, ids: ids(checked) }).toEqual({ total: 2, ids: ['d2'] });

    expect(await matching(store, { batchId: 'b1' })).toEqual(['d4', 'd2']);
    expect(await store.countByCode()).toEqual({ POLL_TIMEOUT: 1, '202': 3, AuthFailure: 1 });
  });

  it('hands out matching ids a chunk at a time, newest first, losing none when a chunk is removed before the next (ties included)', async () => {
    const { store } = setup();
    // Twelve drawing entries (four filed in the same millisecond), half of them code 202, and
    // CME ones in between; a filter on queue and code.
    const at = [9, 8, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1];
    for (const [i, t] of at.entries()) {
      await store.insert(deadLetter(`d${i}`, { code: i % 2 ? '202' : 'X', failedAt: T0 + t }));
      await store.insert(
        deadLetter(`c${i}`, { queue: 'cme', kind: 'cme', code: '202', failedAt: T0 + t }),
      );
    }
    const filter = { queue: 'drawing', code: '202' };
    const expected = (await store.list(filter, { limit: 100 })).items.map((item) => item.id);
    expect(expected).toHaveLength(6);

    const read: string[][] = [];
    for await (const chunk of store.matchingIds(filter, 3)) {
      read.push(chunk);
      for (const id of chunk) await store.remove(id); // a purge
    }
    expect(read.flat()).toEqual(expected);
    expect(Math.max(...read.map((chunk) => chunk.length))).toBeLessThanOrEqual(3);
    expect((await store.list(filter)).total).toBe(0);
    expect((await store.list({ queue: 'drawing' })).total).toBe(6);

    // Read without removing anything, ties across chunk boundaries: each id once.
    const all: string[] = [];
    for await (const chunk of store.matchingIds({ code: 'X' }, 2)) all.push(...chunk);
    expect(all).toEqual((await store.list({ code: 'X' })).items.map((item) => item.id));
    expect(new Set(all).size).toBe(6);
  });

  it('remove deletes the entry with every index row; with a filing, only that filing', async () => {
    const { redis, prefix, store } = setup();
    await fill(store);
    const stored = await store.get('d2');
    if (!stored) throw new Error('d2 was not filed');

    // A newer filing (the job was replayed and died again) is not removed by the older one.
    const older = { ...stored, meta: { ...stored.meta, replays: 0 }, failedAt: T0 - 1 };
    expect(await store.remove('d2', older)).toBeUndefined();
    expect(await store.has('d2')).toBe(true);

    expect(await store.remove('d2', stored)).toEqual(stored);
    expect(await store.remove('d2')).toBeUndefined();
    expect(await store.has('d2')).toBe(false);
    expect(await matching(store, { batchId: 'b1' })).toEqual(['d4']);
    expect(await matching(store, { code: '202', queue: 'drawing' })).toEqual(['d4']);
    expect(await store.countByCode()).toEqual({ POLL_TIMEOUT: 1, '202': 2, AuthFailure: 1 });
    expect(await store.count()).toBe(4);

    // The last entry of a code takes the code's counter with it.
    await store.remove('c5');
    expect(await store.countByCode()).toEqual({ POLL_TIMEOUT: 1, '202': 2 });
    const k = atelierKeys(prefix).deadLetters;
    expect(await redis.zcard(k.byTime)).toBe(3);
    expect(await redis.exists(k.byCode('AuthFailure'))).toBe(0);
    expect(await redis.zrange(k.byQueue('cme'), '0', '-1')).toEqual(['c3']);
  });

  it('remove deletes nothing when the entry changed between its read and its delete', async () => {
    const { redis, prefix, store } = setup();
    await store.insert(deadLetter('dr_1'));
    const newer = JSON.stringify(deadLetter('dr_1', { code: '202', failedAt: T0 + 1 }));
    const entries = atelierKeys(prefix).deadLetters.entries;
    // Another process rewrites the entry right after this one read it.
    const racing = new Proxy(redis, {
      get(target, property) {
        if (property === 'hget') {
          return async (key: string, field: string) => {
            const read = await target.hget(key, field);
            await target.hset(entries, field, newer);
            return read;
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as RedisClient;

    expect(await new DeadLetterStore(racing, prefix).remove('dr_1')).toBeUndefined();
    expect(await store.get('dr_1')).toMatchObject({ code: '202' });
    expect(await store.count()).toBe(1);
  });

  it('purges entries filed up to a time, and only those', async () => {
    const { store } = setup();
    await fill(store);
    expect(await store.purgeOlderThan(T0 + 120_000)).toBe(3);
    expect(ids(await store.list())).toEqual(['c5', 'd4']);
  });
});
