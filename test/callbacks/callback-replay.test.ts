import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { SECRET, startCallbackHarness } from './callback-harness.ts';
import { replay, startCallbackReceiver } from './callback-receiver.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('callback replay protection', () => {
  it('a re-sent captured request is de-duplicated, and rejected once past the tolerance', async () => {
    const hook = await startCallbackReceiver({ secret: SECRET });
    ctx.onCleanup(() => hook.close());
    const h = await startCallbackHarness(ctx);

    await h.send(hook.url, 'd_5.completed.0');
    expect((await h.settled('d_5.completed.0')).state).toBe('completed');
    const captured = hook.accepted[0];
    if (!captured) throw new Error('nothing was delivered');

    // Within the tolerance the signature still holds: the delivery id stops a second processing.
    expect(await replay(hook.url, captured)).toBe(200);
    expect(hook.requests.at(-1)?.outcome).toBe('duplicate');

    // Later the timestamp is stale: rejected before the delivery id is even looked at.
    hook.clockOffsetMs = 301_000;
    expect(await replay(hook.url, captured)).toBe(401);
    expect(hook.requests.at(-1)?.verification).toEqual({ ok: false, reason: 'stale_timestamp' });

    // Moving the timestamp forward to pass the window breaks the signature.
    hook.clockOffsetMs = 0;
    const fresher = Number(captured.headers['x-atelier-timestamp']) + 1;
    const forged = {
      ...captured,
      headers: { ...captured.headers, 'x-atelier-timestamp': String(fresher) },
    };
    expect(await replay(hook.url, forged)).toBe(401);
    expect(hook.requests.at(-1)?.verification).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
    expect(hook.accepted).toHaveLength(1);
    // The delivery job itself is untouched by the replays: delivered once, on its first attempt.
    expect(await h.settled('d_5.completed.0')).toEqual({
      state: 'completed',
      failedReason: '',
      attempts: 1,
    });
    expect((await h.queue.getJob('d_5.completed.0'))?.returnvalue).toEqual({ status: 204 });
    expect(h.deliveries.map((d) => d.status)).toEqual(['delivered']);
  });
});
