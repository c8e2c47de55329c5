import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { SECRET, startCallbackHarness } from './callback-harness.ts';
import { type CallbackReceiver, startCallbackReceiver } from './callback-receiver.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

async function receiver(script: Parameters<typeof startCallbackReceiver>[0]['script'] = []) {
  const started = await startCallbackReceiver({ secret: SECRET, script });
  ctx.onCleanup(() => started.close());
  return started;
}

const signatures = (r: CallbackReceiver) =>
  r.requests.map((req) => String(req.headers['x-atelier-signature']));

describe('callback delivery', () => {
  it('retries a 500 and a reset connection, then delivers once with one delivery id', async () => {
    const hook = await receiver([{ status: 500 }, 'reset']);
    const h = await startCallbackHarness(ctx);
    const body = { event: 'job.completed', id: 'd_42', state: 'completed', result: { n: 'é✓' } };

    await h.send(hook.url, 'd_42.completed.0', body);
    const settled = await h.settled('d_42.completed.0');

    expect(settled.state).toBe('completed');
    expect(hook.requests.map((r) => r.outcome)).toEqual(['scripted', 'scripted', 'accepted']);
    expect(hook.accepted).toHaveLength(1);
    // Every try carried the same delivery id and the same bytes, each validly signed.
    for (const request of hook.requests) {
      expect(request.verification).toMatchObject({
        ok: true,
        deliveryId: 'd_42.completed.0',
        event: 'job.completed',
      });
      expect(request.headers['content-type']).toMatch(/^application\/json/);
    }
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
    expect(JSON.parse(hook.requests[0]?.body ?? '')).toEqual(body);
    expect(h.deliveries.map((d) => [d.status, d.httpStatus, d.code])).toEqual([
      ['retry', 500, 'CALLBACK_HTTP_500'],
      ['retry', undefined, 'CALLBACK_NETWORK'],
      ['delivered', 204, undefined],
    ]);
  });

  it('honours Retry-After and retries 4xx answers like any non-2xx', async () => {
    const hook = await receiver([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 404 },
    ]);
    const h = await startCallbackHarness(ctx);

    await h.send(hook.url, 'd_7.completed.0');
    expect((await h.settled('d_7.completed.0')).state).toBe('completed');

    const [first, second, third] = hook.requests.map((r) => r.at);
    // Without the hint the backoff here is about 20 ms.
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(950);
    expect((third ?? 0) - (second ?? 0)).toBeLessThan(900);
    expect(hook.accepted).toHaveLength(1);
  });

  it('gives up after the attempts: failed set, logged at error, never the secret or signature', async () => {
    const hook = await receiver([{ status: 503 }, { status: 503 }, { status: 503 }]);
    const h = await startCallbackHarness(ctx);

    await h.send(hook.url, 'd_9.dead.0', undefined, { attempts: 3 }, 'job.dead');
    const settled = await h.settled('d_9.dead.0');

    expect(settled).toMatchObject({ state: 'failed', attempts: 3 });
    expect(settled.failedReason).toBe('[CALLBACK_HTTP_503] receiver answered HTTP 503');
    expect(hook.accepted).toHaveLength(0);
    expect(h.deliveries.map((d) => d.status)).toEqual(['retry', 'retry', 'failed']);
    await waitFor(() => h.logs.some((l) => l.level === 50), { what: 'an error line' });
    const errorLine = h.logs.find((l) => l.level === 50);
    expect(errorLine).toMatchObject({
      deliveryId: 'd_9.dead.0',
      event: 'job.dead',
      code: 'CALLBACK_HTTP_503',
      attempts: 3,
    });

    const text = h.logText();
    expect(text).not.toContain(SECRET);
    for (const signature of signatures(hook)) {
      expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
      expect(text).not.toContain(signature.slice(3));
    }
    expect(text).not.toContain('/hooks/atelier');
  });
});
