import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { API_KEY, DRAWING, OTHER_KEY, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('API keys', () => {
  it('answers 401 UNAUTHORIZED with one message whatever is wrong, and changes nothing', async () => {
    const api = await startApi(ctx);
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-key' },
      { authorization: `Basic ${API_KEY}` },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${API_KEY}x` },
      { authorization: `Bearer ${API_KEY.slice(0, -1)}` },
    ];
    const messages = new Set<string>();
    for (const headers of attempts) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/drawings',
        payload: DRAWING,
        headers,
        auth: false,
      });
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      const { error } = res.json();
      expect(error.code).toBe('UNAUTHORIZED');
      messages.add(error.message);
    }
    expect(messages.size).toBe(1);
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('accepts every configured key, on every /v1 route', async () => {
    const api = await startApi(ctx);
    for (const key of [API_KEY, OTHER_KEY]) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/drawings',
        payload: DRAWING,
        auth: key,
      });
      expect(res.statusCode).toBe(202);
    }
    const unauthenticated = await api.call({ method: 'GET', url: '/v1/dead-letters', auth: false });
    expect(unauthenticated.statusCode).toBe(401);
  });

  it('checks the key before reading the body', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: '{not json',
      headers: { 'content-type': 'application/json' },
      auth: false,
    });
    expect(res.statusCode).toBe(401);
  });

  it('serves health, readiness, metrics and the OpenAPI document without a key', async () => {
    const api = await startApi(ctx);
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      const res = await api.call({ method: 'GET', url, auth: false });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('never writes the API key into the logs', async () => {
    const api = await startApi(ctx);
    await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING });
    await api.call({ method: 'POST', url: '/v1/drawings', payload: {} });
    await api.call({ method: 'GET', url: '/v1/jobs/dr_missing' });
    expect(api.logs.lines.length).toBeGreaterThan(0);
    expect(api.logs.text()).not.toContain(API_KEY);
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past ATELIER_RATE_LIMIT_PER_MIN, per key', async () => {
    const api = await startApi(ctx, { env: { ATELIER_RATE_LIMIT_PER_MIN: '5' } });
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await api.call({ method: 'GET', url: '/v1/jobs/dr_x' });
      codes.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json().error.code).toBe('RATE_LIMITED');
        const retryAfter = Number(res.headers['retry-after']);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(120);
      }
    }
    expect(codes).toEqual([404, 404, 404, 404, 404, 429, 429]);
    // Another key has its own budget.
    const other = await api.call({ method: 'GET', url: '/v1/jobs/dr_x', auth: OTHER_KEY });
    expect(other.statusCode).toBe(404);
  });

  it('is shared by every API replica (the count lives in Redis)', async () => {
    const a = await startApi(ctx, { env: { ATELIER_RATE_LIMIT_PER_MIN: '4' } });
    const b = await startApi(ctx, { prefix: a.prefix, env: { ATELIER_RATE_LIMIT_PER_MIN: '4' } });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const api = i % 2 === 0 ? a : b;
      codes.push((await api.call({ method: 'GET', url: '/v1/jobs/dr_x' })).statusCode);
    }
    expect(codes).toEqual([404, 404, 404, 404, 429, 429]);
  });
});
