import { atelierKeys, failure, type Outcome, outcomeLabel, ProviderError } from '@atelier/shared';
import type { CmeTicket } from '@atelier/worker';
import { type TicketRefreshEvent, TicketStore, type TicketStoreOptions } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** A fake login: counts calls, mints `tk-<n>`, can be slowed, failed or held open. */
class FakeLogin {
  calls = 0;
  delayMs = 0;
  fail: Outcome<never> | undefined;
  signals: AbortSignal[] = [];
  clock: () => number = Date.now;

  readonly login = async (userId: string, signal: AbortSignal): Promise<Outcome<CmeTicket>> => {
    this.calls++;
    this.signals.push(signal);
    const n = this.calls;
    if (this.delayMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    }
    if (this.fail) return this.fail;
    return {
      kind: 'ok',
      value: {
        authorization: `tk-${n}`,
        tfUid: `tf-${userId}`,
        appId: 42,
        platform: 'p1',
        userId,
        obtainedAt: this.clock(),
      },
    };
  };
}

function store(prefix: string, fake: FakeLogin, options: Partial<TicketStoreOptions> = {}) {
  return new TicketStore({
    redis: ctx.connection(),
    prefix,
    platform: 'p1',
    login: fake.login,
    ...options,
  });
}

const ok = (outcome: Outcome<CmeTicket>): CmeTicket => {
  if (outcome.kind !== 'ok') throw new Error(`expected a ticket, got ${outcome.kind}`);
  return outcome.value;
};

describe('TicketStore', () => {
  it('logs in once, then serves the cached ticket to every later caller and process', async () => {
    const prefix = ctx.prefix();
    const fake = new FakeLogin();
    const a = store(prefix, fake);
    const b = store(prefix, fake);
    const first = ok(await a.get('u1'));
    expect(first).toMatchObject({ authorization: 'tk-1', tfUid: 'tf-u1', appId: 42, userId: 'u1' });
    for (let i = 0; i < 20; i++) {
      expect(ok(await (i % 2 ? a : b).get('u1')).authorization).toBe('tk-1');
    }
    expect(fake.calls).toBe(1);
  });

  it('concurrent callers in one process share one login (single flight)', async () => {
    const fake = new FakeLogin();
    fake.delayMs = 100;
    const s = store(ctx.prefix(), fake);
    const tickets = await Promise.all(Array.from({ length: 100 }, () => s.get('u1')));
    expect(new Set(tickets.map((t) => ok(t).authorization))).toEqual(new Set(['tk-1']));
    expect(fake.calls).toBe(1);
  });

  it('concurrent callers in several processes share one login (Redis lock)', async () => {
    const prefix = ctx.prefix();
    const fake = new FakeLogin();
    fake.delayMs = 150;
    const stores = [store(prefix, fake), store(prefix, fake), store(prefix, fake)];
    const tickets = await Promise.all(
      Array.from({ length: 90 }, (_, i) => stores[i % 3]?.get('u1')),
    );
    expect(new Set(tickets.map((t) => t && ok(t).authorization))).toEqual(new Set(['tk-1']));
    expect(fake.calls).toBe(1);
  });

  it('invalidate is compare-and-delete: a late failure keeps the fresher ticket', async () => {
    const prefix = ctx.prefix();
    const fake = new FakeLogin();
    const s = store(prefix, fake);
    const old = ok(await s.get('u1'));
    expect(await s.invalidate('u1', old)).toBe(true);
    const fresh = ok(await s.get('u1'));
    expect(fresh.authorization).toBe('tk-2');
    // A call that failed with the old ticket reports late: nothing is thrown away.
    expect(await s.invalidate('u1', old)).toBe(false);
    expect(ok(await s.get('u1')).authorization).toBe('tk-2');
    expect(fake.calls).toBe(2);
    const stored = await ctx
      .connection()
      .hget(atelierKeys(prefix).cme.ticket('p1', 'u1'), 'authorization');
    expect(stored).toBe('tk-2');
  });

  it('a re-login that returns the same value is still safe from a late invalidate', async () => {
    let now = 1_000;
    const fake = new FakeLogin();
    fake.clock = () => now;
    const sameValue: typeof fake.login = async (userId, signal) => {
      const outcome = await fake.login(userId, signal);
      return outcome.kind === 'ok'
        ? { kind: 'ok', value: { ...outcome.value, authorization: 'same' } }
        : outcome;
    };
    const s = store(ctx.prefix(), fake, { login: sameValue });
    const old = ok(await s.get('u1'));
    expect(await s.invalidate('u1', old)).toBe(true);
    now += 1;
    const fresh = ok(await s.get('u1'));
    expect(fresh.authorization).toBe('same');
    expect(await s.invalidate('u1', old)).toBe(false);
    expect(ok(await s.get('u1')).obtainedAt).toBe(fresh.obtainedAt);
    expect(fake.calls).toBe(2);
  });

  it('refreshes tickets older than maxAgeMs, once', async () => {
    let now = 1_000_000;
    const fake = new FakeLogin();
    fake.clock = () => now;
    const prefix = ctx.prefix();
    const options = { maxAgeMs: 1000, now: () => now };
    const [a, b] = [store(prefix, fake, options), store(prefix, fake, options)];
    expect(ok(await a.get('u1')).authorization).toBe('tk-1');
    now += 999;
    expect(ok(await b.get('u1')).authorization).toBe('tk-1');
    now += 1;
    const again = await Promise.all([a.get('u1'), b.get('u1'), a.get('u1'), b.get('u1')]);
    expect(new Set(again.map((t) => ok(t).authorization))).toEqual(new Set(['tk-2']));
    expect(fake.calls).toBe(2);
  });

  it('list() shows age, refreshes and TfUid per user, never the ticket', async () => {
    let now = 5_000_000;
    const fake = new FakeLogin();
    fake.clock = () => now;
    const s = store(ctx.prefix(), fake, { now: () => now });
    const t1 = ok(await s.get('u1'));
    await s.invalidate('u1', t1);
    await s.get('u1');
    await s.get('u2');
    const gone = ok(await s.get('u2'));
    await s.invalidate('u2', gone);
    now += 250;
    const list = await s.list();
    expect(list).toEqual([
      {
        platform: 'p1',
        userId: 'u1',
        active: true,
        obtainedAt: 5_000_000,
        ageMs: 250,
        refreshes: 2,
        tfUid: 'tf-u1',
      },
      {
        platform: 'p1',
        userId: 'u2',
        active: false,
        obtainedAt: 5_000_000,
        ageMs: 250,
        refreshes: 1,
        tfUid: undefined,
      },
    ]);
    expect(JSON.stringify(list)).not.toMatch(/tk-/);
  });

  it('calls onRefresh for every login this process makes, with its outcome', async () => {
    const fake = new FakeLogin();
    const events: TicketRefreshEvent[] = [];
    const s = store(ctx.prefix(), fake, { onRefresh: (e) => events.push(e) });
    const first = ok(await s.get('u1'));
    fake.fail = failure(
      new ProviderError('down', { provider: 'cme', kind: 'retryable', code: 'NETWORK' }),
    );
    await s.invalidate('u1', first);
    expect(outcomeLabel(await s.get('u1'))).toBe('retryable');
    expect(events.map((e) => [e.userId, e.outcome])).toEqual([
      ['u1', 'ok'],
      ['u1', 'retryable'],
    ]);
    expect(events.every((e) => e.platform === 'p1' && e.durationMs >= 0)).toBe(true);
  });

  it('a login failure comes back as its outcome and leaves no lock behind', async () => {
    const prefix = ctx.prefix();
    const fake = new FakeLogin();
    fake.fail = failure(
      new ProviderError('bad key', {
        provider: 'cme',
        kind: 'config',
        code: 'SignatureVerifyFail',
      }),
    );
    const s = store(prefix, fake);
    const outcome = await s.get('u1');
    expect(outcomeLabel(outcome)).toBe('config');
    const redis = ctx.connection();
    expect(await redis.exists(atelierKeys(prefix).cme.ticketLock('p1', 'u1'))).toBe(0);
    fake.fail = undefined;
    expect(ok(await s.get('u1')).authorization).toBe('tk-2');
  });

  it('waits for a lock held elsewhere, and takes over when its holder dies', async () => {
    const prefix = ctx.prefix();
    const redis = ctx.connection();
    // A crashed process: holds the lock for 300 ms and never stores a ticket.
    await redis.set(atelierKeys(prefix).cme.ticketLock('p1', 'u1'), 'dead', 'PX', 300);
    const fake = new FakeLogin();
    const started = Date.now();
    const ticket = ok(await store(prefix, fake).get('u1'));
    expect(ticket.authorization).toBe('tk-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(fake.calls).toBe(1);
  });

  it('gives up waiting on a stuck lock after waitTimeoutMs with a retryable outcome', async () => {
    const prefix = ctx.prefix();
    await ctx.connection().set(atelierKeys(prefix).cme.ticketLock('p1', 'u1'), 'x', 'PX', 60_000);
    const fake = new FakeLogin();
    const outcome = await store(prefix, fake, { waitTimeoutMs: 200 }).get('u1');
    expect(outcomeLabel(outcome)).toBe('retryable');
    if (outcome.kind === 'failed') expect(outcome.error.code).toBe('TICKET_WAIT_TIMEOUT');
    expect(fake.calls).toBe(0);
  });

  it('a caller that aborts leaves; the login goes on for the others', async () => {
    const fake = new FakeLogin();
    fake.delayMs = 200;
    const s = store(ctx.prefix(), fake);
    const controller = new AbortController();
    const leaving = s.get('u1', controller.signal);
    const staying = s.get('u1');
    // Both wait on the one login, which is under way when the first caller leaves.
    await waitFor(() => fake.calls === 1, { what: 'the login to start' });
    controller.abort(new Error('job cancelled'));
    await expect(leaving).rejects.toThrow('job cancelled');
    expect(ok(await staying).authorization).toBe('tk-1');
    expect(fake.signals[0]?.aborted).toBe(false);
  });

  it('when every caller aborts, the login is aborted and the lock released', async () => {
    const prefix = ctx.prefix();
    const fake = new FakeLogin();
    fake.delayMs = 5000;
    const s = store(prefix, fake);
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((c) => s.get('u1', c.signal));
    await waitFor(() => fake.calls === 1, { what: 'the login to start' });
    for (const c of controllers) c.abort(new Error('stop'));
    for (const call of calls) await expect(call).rejects.toThrow('stop');
    await waitFor(() => fake.signals[0]?.aborted, { what: 'the login to be aborted' });
    const redis = ctx.connection();
    const lockKey = atelierKeys(prefix).cme.ticketLock('p1', 'u1');
    await waitFor(async () => (await redis.exists(lockKey)) === 0, { what: 'the lock release' });
  });
});
