import { RecentErrors } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const error = (n: number) => ({
  at: n,
  queue: n % 2 === 0 ? 'drawing' : 'cme',
  jobId: `job-${n}`,
  code: `CODE_${n}`,
  kind: 'retryable',
});

describe('RecentErrors', () => {
  it('keeps the last 200 failures across processes, newest first', async () => {
    const prefix = ctx.prefix('errors');
    const workerA = new RecentErrors(ctx.connection(), prefix);
    const workerB = new RecentErrors(ctx.connection(), prefix);
    expect(await workerA.list()).toEqual([]);

    for (let n = 1; n <= 205; n++) await (n % 2 === 0 ? workerA : workerB).record(error(n));

    const kept = await new RecentErrors(ctx.connection(), prefix).list();
    expect(kept).toHaveLength(200);
    expect(kept[0]).toEqual(error(205));
    expect(kept[199]).toEqual(error(6));
    expect(await workerB.list(3)).toEqual([error(205), error(204), error(203)]);
    // Another deployment's list is its own.
    expect(await new RecentErrors(ctx.connection(), ctx.prefix('other')).list()).toEqual([]);
  });
});
