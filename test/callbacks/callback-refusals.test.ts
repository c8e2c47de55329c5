import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostResolver } from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { SECRET, startCallbackHarness } from './callback-harness.ts';
import { startCallbackReceiver } from './callback-receiver.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

async function receiver(script: Parameters<typeof startCallbackReceiver>[0]['script'] = []) {
  const started = await startCallbackReceiver({ secret: SECRET, script });
  ctx.onCleanup(() => started.close());
  return started;
}

describe('callback URL safety', () => {
  it.each(['127.0.0.1', 'localhost'])(
    'refuses a private address (%s) for good, without connecting, unless allowed',
    async (host) => {
      const hook = await receiver();
      const h = await startCallbackHarness(ctx, { allowPrivate: false });
      await h.send(`http://${host}:${hook.port}/hooks/atelier`, 'd_1.completed.0');

      const settled = await h.settled('d_1.completed.0');
      expect(settled.state).toBe('failed');
      expect(settled.attempts).toBe(1);
      expect(settled.failedReason).toMatch(/^\[CALLBACK_URL_REFUSED\] /);
      expect(hook.connections).toBe(0);
      expect(h.deliveries).toEqual([
        expect.objectContaining({ status: 'failed', code: 'CALLBACK_URL_REFUSED' }),
      ]);
    },
  );

  it('refuses a host that resolves to a public address first and a private one at connect time', async () => {
    const hook = await receiver();
    const answers = ['93.184.216.34', '127.0.0.1'];
    const calls: string[] = [];
    // DNS rebinding: the URL check sees a public address, the connection would go to loopback.
    const resolve: HostResolver = async (hostname) => {
      calls.push(hostname);
      const address = answers.shift() ?? '127.0.0.1';
      return [{ address, family: 4 }];
    };
    const h = await startCallbackHarness(ctx, { allowPrivate: false, resolve });
    await h.send(`http://rebind.test:${hook.port}/hooks/atelier`, 'd_2.completed.0');

    const settled = await h.settled('d_2.completed.0');
    expect(calls).toEqual(['rebind.test', 'rebind.test']);
    expect(settled).toMatchObject({ state: 'failed', attempts: 1 });
    expect(settled.failedReason).toMatch(/^\[CALLBACK_URL_REFUSED\] .*non-public/);
    expect(hook.connections).toBe(0);
  });

  it('connects to the resolved address when private addresses are allowed', async () => {
    const hook = await receiver();
    const resolve: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const h = await startCallbackHarness(ctx, { allowPrivate: true, resolve });
    await h.send(`http://rebind.test:${hook.port}/hooks/atelier`, 'd_3.completed.0');

    expect((await h.settled('d_3.completed.0')).state).toBe('completed');
    expect(hook.accepted).toHaveLength(1);
  });

  it('does not follow a redirect', async () => {
    let targetHits = 0;
    const target = createServer((_req, res) => {
      targetHits++;
      res.writeHead(200);
      res.end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    ctx.onCleanup(() => new Promise((resolve) => target.close(resolve)));
    const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/elsewhere`;
    const hook = await receiver([
      { status: 307, headers: { location: targetUrl } },
      { status: 302, headers: { location: targetUrl } },
    ]);
    const h = await startCallbackHarness(ctx);

    await h.send(hook.url, 'd_4.completed.0', undefined, { attempts: 2 });
    const settled = await h.settled('d_4.completed.0');

    expect(settled).toMatchObject({ state: 'failed', attempts: 2 });
    expect(settled.failedReason).toMatch(/^\[CALLBACK_HTTP_302\] /);
    expect(hook.requests).toHaveLength(2);
    expect(targetHits).toBe(0);
    expect(h.deliveries.map((d) => [d.status, d.httpStatus])).toEqual([
      ['retry', 307],
      ['failed', 302],
    ]);
  });
});
