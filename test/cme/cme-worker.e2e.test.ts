import { atelierKeys } from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { CME_PLATFORM, CmeStack } from '../support/cme-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('CME operations through the queue', () => {
  it('500 operations over 2 worker processes: one login per user per expiry and per revocation, all complete', async () => {
    const stack = await CmeStack.start(ctx, { env: { CME_CONCURRENCY: '20' } });
    // Slow answers keep operations in flight while tickets expire under them.
    stack.sim.setFaults({ delayMs: 40 });
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const materials = new Map(users.map((u) => [u, stack.seedMaterials(u, 3)]));
    const workers = [await startChildWorker(stack.env), await startChildWorker(stack.env)];
    for (const w of workers) ctx.onCleanup(() => w.kill());

    const ids: string[] = [];
    const enqueue = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const user = users[ids.length % users.length] as string;
        ids.push(
          await stack.enqueue(user, 'Material/DescribeMaterials', {
            MaterialIds: materials.get(user),
          }),
        );
      }
    };
    const completed = () => stack.queue.getCompletedCount();
    // Each event strikes while operations are in flight, and every user has work after it.
    await enqueue(200);
    await waitFor(async () => (await completed()) >= 100, { timeoutMs: 30_000, what: '100 done' });
    const loginsBeforeExpiry = stack.sim.counters().logins.total;
    stack.sim.expireAll();
    await enqueue(150);
    await waitFor(async () => (await completed()) >= 250, { timeoutMs: 30_000, what: '250 done' });
    stack.sim.revoke();
    await enqueue(150);
    await waitFor(async () => (await completed()) === 500, {
      timeoutMs: 60_000,
      what: 'all 500 done',
    });

    expect(loginsBeforeExpiry).toBe(users.length);
    expect(stack.sim.counters().logins.total).toBe(users.length * 3);
    for (const user of users) expect(stack.sim.counters().logins.byUser[user]).toBe(3);
    expect(stack.sim.counters().authFailures).toBeGreaterThan(0);
    expect(await stack.deadLetters.count()).toBe(0);
    const sample = await stack.completed(ids[499] as string);
    expect(sample.returnvalue).toMatchObject({
      action: 'Material/DescribeMaterials',
      outcome: 'done',
    });
  });

  it('a transient error is retried, then the operation completes', async () => {
    const stack = await CmeStack.start(ctx);
    const [material] = stack.seedMaterials('u1', 1);
    stack.sim.script('DescribeMaterials', [
      { code: 'InternalError' },
      { code: 'ServiceUnavailable' },
    ]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/DescribeMaterials', { MaterialIds: [material] });
    const job = await stack.completed(id);
    expect(job.data.history?.map((h) => h.code)).toEqual(['InternalError', 'ServiceUnavailable']);
    expect(job.returnvalue.data).toBeDefined();
  });

  it('a terminal error goes to the dead-letter queue with the code and both messages', async () => {
    const stack = await CmeStack.start(ctx);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/ModifyMaterial', {
      MaterialId: 'no-such-material',
      Name: 'x',
    });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('InvalidParameterValue.MaterialId');
    expect(entry.providerMessage).toBeTruthy();
    expect(entry.providerEnglishMessage).toBeTruthy();
    expect(entry.request).toMatchObject({ userId: 'u1', action: 'Material/ModifyMaterial' });
    expect(entry.attempts).toBe(1);
  });

  it('"retry a little" codes give up after a few attempts', async () => {
    const stack = await CmeStack.start(ctx);
    stack.sim.script(
      'DeleteClass',
      Array.from({ length: 5 }, () => ({ code: 'FailedOperation' })),
    );
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/DeleteClass', {
      Owner: { Type: 'PERSON', Id: 'u1' },
      ClassId: 1,
    });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('FailedOperation');
    expect(entry.attempts).toBe(3);
  });

  it('auth failing even with a ticket minted for the retry is terminal: dead letter, not a login storm', async () => {
    const stack = await CmeStack.start(ctx);
    const [material] = stack.seedMaterials('u1', 1);
    stack.sim.setFaults({
      forceAuthFailures: 1000,
      forceAuthFailureCode: 'AuthFailure.InvalidAuthorization',
    });
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/DescribeMaterials', { MaterialIds: [material] });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('AuthFailure.InvalidAuthorization');
    expect(stack.sim.counters().logins.total).toBeLessThanOrEqual(3);
  });

  it('deleting a material that is already gone completes as done, saying so', async () => {
    const stack = await CmeStack.start(ctx);
    const [material] = stack.seedMaterials('u1', 1);
    await stack.startWorker();
    const first = await stack.enqueue('u1', 'Material/DeleteMaterial', { MaterialId: material });
    expect((await stack.completed(first)).returnvalue).toMatchObject({ outcome: 'done' });
    const again = await stack.enqueue('u1', 'Material/DeleteMaterial', { MaterialId: material });
    expect((await stack.completed(again)).returnvalue).toMatchObject({
      outcome: 'already-gone',
      alreadyGone: true,
    });
  });

  it('a malformed payload is dead-lettered INVALID_PAYLOAD without calling the provider', async () => {
    const stack = await CmeStack.start(ctx);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/DeleteMaterial', { MaterialId: 42 });
    expect((await stack.dead(id)).code).toBe('INVALID_PAYLOAD');
    expect(stack.sim.counters().apiCalls.total).toBe(0);
  });

  it('the log of a whole run holds no SecretKey, ticket or signature', async () => {
    const stack = await CmeStack.start(ctx, { env: { LOG_LEVEL: 'trace' } });
    const [material] = stack.seedMaterials('u1', 1);
    await stack.startWorker();
    const ok = await stack.enqueue('u1', 'Material/DescribeMaterials', { MaterialIds: [material] });
    await stack.completed(ok);
    stack.sim.expireAll();
    stack.sim.script('ModifyMaterial', [{ code: 'InternalError' }]);
    const modify = await stack.enqueue('u1', 'Material/ModifyMaterial', {
      MaterialId: material,
      Name: 'renamed',
    });
    await stack.completed(modify);
    const bad = await stack.enqueue('u1', 'Material/ModifyMaterial', {
      MaterialId: 'missing',
      Name: 'x',
    });
    await stack.dead(bad);

    const ticket = await ctx
      .connection()
      .hget(atelierKeys(stack.prefix).cme.ticket(CME_PLATFORM, 'u1'), 'authorization');
    expect(ticket).toBeTruthy();
    const log = stack.logs.text();
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(stack.secretKey);
    expect(log).not.toContain(ticket as string);
    expect(log).not.toMatch(/signature=[A-Za-z0-9%+/]{20,}/);
    expect(log).not.toMatch(/auth=tf_/);
  });
});
