import { createRedisConnection, type RedisClient } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from './redis-context.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { waitFor } from './wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** A proxy to the test Redis and a worker-style connection through it (commands wait). */
async function throughProxy(): Promise<{ proxy: TcpProxy; client: RedisClient; key: string }> {
  const proxy = await TcpProxy.start({ port: Number(new URL(ctx.url).port) });
  ctx.onCleanup(() => proxy.close());
  const client = createRedisConnection({ url: `redis://127.0.0.1:${proxy.port}`, role: 'worker' });
  client.on('error', () => undefined); // resets are the point here
  ctx.onCleanup(async () => client.disconnect());
  await client.ping();
  return { proxy, client, key: `${ctx.prefix('proxy')}:key` };
}

describe('TCP proxy (failure tests, chaos suite)', () => {
  it('forwards both ways', async () => {
    const { proxy, client, key } = await throughProxy();
    await client.set(key, 'v');
    expect(await ctx.connection().get(key)).toBe('v');
    expect(await client.get(key)).toBe('v');
    expect(proxy.connections).toBe(1);
  });

  it('reset: cuts open connections, resets new ones until restored; queued commands land after', async () => {
    const { proxy, client, key } = await throughProxy();
    const direct = ctx.connection();
    proxy.reset();
    await waitFor(() => client.status !== 'ready', { what: 'the client to notice the cut' });
    let written = false;
    const write = client.set(key, 'late').then(() => {
      written = true;
    });
    const accepted = proxy.accepted;
    await waitFor(() => proxy.accepted > accepted + 1, { what: 'reconnects to be reset' });
    expect(proxy.connections).toBe(0);
    expect(await direct.get(key)).toBeNull();
    expect(written).toBe(false);

    proxy.restore();
    await write;
    expect(await direct.get(key)).toBe('late');
  });

  it('stall: holds every byte without an error, then delivers them in order', async () => {
    const { proxy, client, key } = await throughProxy();
    const direct = ctx.connection();
    proxy.stall();
    let answered = false;
    const writes = Promise.all([client.set(key, 'first'), client.append(key, '+second')]).then(
      (answers) => {
        answered = true;
        return answers;
      },
    );
    await waitFor(() => proxy.heldBytes > 0, { what: 'the commands to be held' });
    expect(await direct.get(key)).toBeNull();
    expect(answered).toBe(false);
    expect(client.status).toBe('ready');

    proxy.restore();
    expect(await writes).toEqual(['OK', 'first+second'.length]);
    expect(await direct.get(key)).toBe('first+second');
    expect(proxy.heldBytes).toBe(0);
  });

  it('refuses a second cut while one is on', async () => {
    const { proxy } = await throughProxy();
    proxy.stall();
    expect(() => proxy.reset()).toThrow(/already cut \(stall\)/);
    proxy.restore();
    expect(proxy.cutMode).toBeUndefined();
  });
});
