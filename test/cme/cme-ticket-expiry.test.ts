import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type CmeOperation, type Outcome, outcomeLabel } from '@atelier/shared';
import type { CmeOperationRunner } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { seedMaterials, startCmeHarness } from './cme-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const USER = 'user_001';

/**
 * Calls are paced by the shared rate limit (400/s across all runners) so that, when a test
 * expires the ticket after the first calls, most of a burst has yet to reach the simulator,
 * however busy the machine is. The simulator checks tickets before its 10 ms delay.
 */
const PACED = {
  simulator: { faults: { delayMs: 10 } },
  config: { rateLimitPerSec: 400 },
};
const PACED_RUNNER = { maxRateWaitMs: 10_000 };

function describeOp(materialId: string): CmeOperation {
  return {
    userId: USER,
    action: 'Material/DescribeMaterials',
    params: { MaterialIds: [materialId] },
  };
}

function kinds(outcomes: Outcome<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[outcomeLabel(o)] = (counts[outcomeLabel(o)] ?? 0) + 1;
  return counts;
}

/** Runs `count` operations spread over `runners`, all started at once. */
function burst(runners: CmeOperationRunner[], count: number, op: CmeOperation) {
  return Promise.all(
    Array.from(
      { length: count },
      (_, i) => runners[i % runners.length]?.run(op) as Promise<Outcome<unknown>>,
    ),
  );
}

describe('CME tickets under concurrency (two runners = two processes)', () => {
  it('reuses one ticket for many calls: one login', async () => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const runner = h.runner();
    for (let i = 0; i < 30; i++) expect((await runner.run(describeOp(id))).kind).toBe('ok');
    expect(h.simulator.counters().logins.total).toBe(1);
    expect(h.simulator.counters().apiCalls.total).toBe(30);
  });

  it('a cold start of 200 concurrent operations logs in once', async () => {
    const h = await startCmeHarness(ctx, { simulator: { faults: { delayMs: 5 } } });
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const outcomes = await burst([h.runner(), h.runner()], 200, describeOp(id));
    expect(kinds(outcomes)).toEqual({ ok: 200 });
    expect(h.simulator.counters().logins.total).toBe(1);
  });

  it.each([
    ['expireAll', (h: { simulator: { expireAll(): number } }) => h.simulator.expireAll()],
    [
      'revoke(user)',
      (h: { simulator: { revoke(u?: string): number } }) => h.simulator.revoke(USER),
    ],
  ])(
    'tickets ending mid-run (%s), three times: exactly one login per expiry, every operation succeeds',
    async (_name, expire) => {
      const h = await startCmeHarness(ctx, PACED);
      const [id = ''] = seedMaterials(h.simulator, USER, 1);
      const runners = [h.runner(PACED_RUNNER), h.runner(PACED_RUNNER)];
      expect((await runners[0]?.run(describeOp(id)))?.kind).toBe('ok');
      expect(h.simulator.counters().logins.total).toBe(1);
      for (let round = 1; round <= 3; round++) {
        const callsBefore = h.simulator.counters().apiCalls.total;
        const authFailuresBefore = h.simulator.counters().authFailures;
        const run = burst(runners, 200, describeOp(id));
        // Expire while calls are in flight: some have finished, many are on the wire.
        await waitFor(() => h.simulator.counters().apiCalls.total >= callsBefore + 40, {
          intervalMs: 1,
          what: 'calls in flight',
        });
        expect(expire(h)).toBe(1);
        const outcomes = await run;
        expect(kinds(outcomes)).toEqual({ ok: 200 });
        expect(h.simulator.counters().logins.total).toBe(1 + round);
        // The expiry hit calls still to come: they failed, refreshed and retried.
        expect(h.simulator.counters().authFailures).toBeGreaterThan(authFailuresBefore);
      }
      const counters = h.simulator.counters();
      expect(counters.authFailures).toBeGreaterThan(0);
      expect(counters.logins.failed).toBe(0);
      const [info] = (await runners[1]?.tickets.list()) ?? [];
      expect(info).toMatchObject({ userId: USER, active: true, refreshes: 4 });
    },
  );

  it('a late invalidate with the old ticket keeps the fresh one (compare-and-delete)', async () => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const [a, b] = [h.runner(), h.runner()];
    const get = async (r: CmeOperationRunner) => {
      const o = await r.tickets.get(USER);
      if (o.kind !== 'ok') throw new Error(outcomeLabel(o));
      return o.value;
    };
    const old = await get(a);
    h.simulator.expireAll();
    // Process B hits the expiry first and refreshes.
    expect((await b.run(describeOp(id))).kind).toBe('ok');
    const fresh = await get(b);
    expect(fresh.authorization).not.toBe(old.authorization);
    // Process A's call with the old ticket fails late and reports it: nothing is lost.
    expect(await a.tickets.invalidate(USER, old)).toBe(false);
    expect((await get(a)).authorization).toBe(fresh.authorization);
    expect((await a.run(describeOp(id))).kind).toBe('ok');
    expect(h.simulator.counters().logins.total).toBe(2);
  });

  it('ticketMaxAgeMs refreshes an old ticket before it fails, once for both processes', async () => {
    const h = await startCmeHarness(ctx, { config: { ticketMaxAgeMs: 300 } });
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const runners = [h.runner(), h.runner()];
    expect(kinds(await burst(runners, 20, describeOp(id)))).toEqual({ ok: 20 });
    expect(h.simulator.counters().logins.total).toBe(1);
    await waitFor(async () => ((await runners[0]?.tickets.list())?.[0]?.ageMs ?? 0) >= 300, {
      what: 'the ticket to age',
    });
    expect(kinds(await burst(runners, 20, describeOp(id)))).toEqual({ ok: 20 });
    expect(h.simulator.counters().logins.total).toBe(2);
    expect(h.simulator.counters().authFailures).toBe(0);
  });
});

describe('CME tickets across real processes', () => {
  it('a child process and this one: one login per expiry, every operation succeeds', async () => {
    const h = await startCmeHarness(ctx, PACED);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const runner = h.runner(PACED_RUNNER);
    expect((await runner.run(describeOp(id))).kind).toBe('ok');
    const { secretId, secretKey, ...config } = h.config;
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('./cme-child-runner.ts', import.meta.url)),
        JSON.stringify({
          redisUrl: ctx.url,
          prefix: h.prefix,
          config: { ...config, secretId: secretId?.reveal(), secretKey: secretKey?.reveal() },
          count: 150,
          operation: describeOp(id),
        }),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    ctx.onCleanup(async () => child.kill());
    const output = createInterface({ input: child.stdout });
    const lines = output[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');

    const callsBefore = h.simulator.counters().apiCalls.total;
    child.stdin.write('go\n');
    const mine = burst([runner], 150, describeOp(id));
    await waitFor(() => h.simulator.counters().apiCalls.total >= callsBefore + 60, {
      intervalMs: 1,
      what: 'calls from both processes in flight',
    });
    expect(h.simulator.expireAll()).toBe(1);
    const [own, theirs] = await Promise.all([mine, lines.next()]);
    expect(kinds(own)).toEqual({ ok: 150 });
    expect(JSON.parse(String(theirs.value))).toEqual({ kinds: { ok: 150 } });
    expect(h.simulator.counters().apiCalls.byUser[USER]).toBeGreaterThanOrEqual(301);
    expect(h.simulator.counters().authFailures).toBeGreaterThan(0);
    expect(h.simulator.counters().logins.total).toBe(2);
  });
});
