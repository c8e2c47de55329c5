import { createRedisConnection } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait-for.ts';
import { CME, DRAWING, startApi } from './api-harness.ts';

let server: RedisServer | undefined;
let ctx: RedisTestContext | undefined;
afterEach(async () => {
  await ctx?.cleanup();
  await server?.stop();
  server = undefined;
  ctx = undefined;
});

describe('Redis outage', () => {
  it('answers 503 REDIS_UNAVAILABLE within a second while Redis is down, and recovers by itself', async () => {
    server = await startRedisServer();
    const port = server.port;
    ctx = new RedisTestContext(server.url);
    const api = await startApi(ctx, { redisUrl: server.url });
    expect(
      (await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING })).statusCode,
    ).toBe(202);

    await server.kill();
    const requests = [
      { method: 'POST', url: '/v1/drawings', payload: DRAWING },
      {
        method: 'POST',
        url: '/v1/cme/operations',
        payload: { userId: 'u1', action: 'Material/DeleteMaterial', params: { MaterialId: 'm' } },
      },
      { method: 'GET', url: '/v1/jobs/dr_anything' },
      { method: 'POST', url: '/v1/batches', payload: { items: [DRAWING] } },
      { method: 'GET', url: '/v1/dead-letters' },
    ] as const;
    for (const request of requests) {
      const started = Date.now();
      const res = await api.call({ ...request });
      const elapsed = Date.now() - started;
      expect(res.statusCode, request.url).toBe(503);
      expect(res.json().error.code).toBe('REDIS_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(elapsed, request.url).toBeLessThan(1000);
    }
    const ready = await api.call({ method: 'GET', url: '/readyz', auth: false });
    expect(ready.statusCode).toBe(503);
    expect((await api.call({ method: 'GET', url: '/healthz', auth: false })).statusCode).toBe(200);

    // Same port, same data folder: the connection comes back without anyone restarting the API.
    server = await startRedisServer({ port });
    await waitFor(
      async () =>
        (await api.call({ method: 'GET', url: '/readyz', auth: false })).statusCode === 200,
      {
        what: 'readiness after Redis returns',
      },
    );
    const after = await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING });
    expect(after.statusCode).toBe(202);
    expect(await api.drawingQueue.getJob(after.json().id)).toBeDefined();
  });

  it('fails fast when Redis dies in the middle of a request stream (no hang)', async () => {
    server = await startRedisServer();
    const port = server.port;
    ctx = new RedisTestContext(server.url);
    const api = await startApi(ctx, { redisUrl: server.url });
    const inFlight = Array.from({ length: 50 }, () =>
      api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING }),
    );
    const started = Date.now();
    await server.kill();
    const answers = await Promise.all(inFlight);
    expect(Date.now() - started).toBeLessThan(1500);
    for (const res of answers) expect([202, 503]).toContain(res.statusCode);
    server = await startRedisServer({ port }); // for the cleanup
  });

  it('a 503 whose add may still land says so, with the id to look up: found once it landed', async () => {
    server = await startRedisServer();
    ctx = new RedisTestContext(server.url);
    const api = await startApi(ctx, { redisUrl: server.url });
    const admin = createRedisConnection({ url: server.url, role: 'worker' });
    ctx.onCleanup(async () => admin.disconnect());
    // After authentication and the rate limit (both write to Redis): writes are held for 2 s,
    // longer than the guard waits, so the add is sent, abandoned, and lands afterwards.
    let pause = false;
    api.app.addHook('preHandler', async () => {
      if (pause) await admin.client('PAUSE', 2000, 'WRITE');
    });

    const requests = [
      { url: '/v1/drawings', payload: DRAWING, kind: 'drawing' },
      { url: '/v1/cme/operations', payload: CME, kind: 'cme' },
    ] as const;
    for (const { url, payload, kind } of requests) {
      pause = true;
      const res = await api.call({ method: 'POST', url, payload });
      pause = false;
      expect(res.statusCode, url).toBe(503);
      const { error } = res.json();
      expect(error.code).toBe('REDIS_UNAVAILABLE');
      expect(error.details).toEqual({ outcome: 'unknown', id: expect.any(String) });
      expect(error.message).toMatch(/may have been queued/);
      const { id } = error.details;
      expect(id).toMatch(kind === 'drawing' ? /^dr_/ : /^cm_/);

      const found = await waitFor(
        async () => {
          const job = await api.call({ method: 'GET', url: `/v1/jobs/${id}` });
          return job.statusCode === 200 ? job.json() : undefined;
        },
        { what: `${id} after the pause` },
      );
      expect(found).toMatchObject({ id, kind, state: 'queued' });
    }
    // Nothing else was queued: the 503 named the one job the request made.
    expect(await api.drawingQueue.count()).toBe(1);
    expect(await api.cmeQueue.count()).toBe(1);
  });

  it('a 503 before anything was sent carries no id (nothing can land)', async () => {
    server = await startRedisServer();
    const port = server.port;
    ctx = new RedisTestContext(server.url);
    const api = await startApi(ctx, { redisUrl: server.url });
    let kill = false;
    api.app.addHook('preHandler', async () => {
      if (!kill) return;
      await server?.kill();
      await waitFor(() => api.producer.redis.status !== 'ready', { what: 'the connection lost' });
    });
    kill = true;
    const res = await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('REDIS_UNAVAILABLE');
    expect(res.json().error.details).toBeUndefined();
    server = await startRedisServer({ port }); // for the cleanup
  });
});
