import { DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { sample } from '../support/prometheus.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('API metric labels are bounded', () => {
  it('dead letters by code: provider codes the specs do not name are summed under "other" (or "<family>.other")', async () => {
    const api = await startApi(ctx);
    const deadLetters = new DeadLetterStore(ctx.connection(), api.prefix);
    const codes = [
      'POLL_TIMEOUT',
      'Vendor.InventedCode1',
      'Vendor.InventedCode2',
      '7777',
      'InvalidParameterValue.Colour',
      'InvalidParameterValue.Size',
    ];
    for (const [i, code] of codes.entries()) {
      await deadLetters.insert({
        id: `dr_label${i}`,
        queue: 'drawing',
        kind: 'drawing',
        code,
        message: 'm',
        attempts: 1,
        history: [],
        request: { ...DRAWING, num: 1 },
        meta: { enqueuedAt: 1 },
        failedAt: 1,
      });
    }
    const res = await api.call({ method: 'GET', url: '/metrics', auth: false });
    expect(res.body).not.toContain('Vendor.InventedCode');
    expect(res.body).not.toContain('7777');
    expect(sample(res.body, 'atelier_dead_letters', { code: 'POLL_TIMEOUT' })).toBe(1);
    expect(sample(res.body, 'atelier_dead_letters', { code: 'other' })).toBe(3);
    expect(sample(res.body, 'atelier_dead_letters', { code: 'InvalidParameterValue.other' })).toBe(
      2,
    );
  });

  it('requests: a method the API does not serve counts as "other"; an unknown path as route "unmatched"', async () => {
    const api = await startApi(ctx);
    await api.app.inject({ method: 'PROPFIND', url: '/v1/drawings' });
    await api.call({ method: 'GET', url: '/no-such-route-5f3a9c' });
    const res = await api.call({ method: 'GET', url: '/metrics', auth: false });
    expect(res.body).not.toContain('PROPFIND');
    expect(res.body).not.toContain('no-such-route');
    expect(
      sample(res.body, 'atelier_api_requests_total', { method: 'other', route: 'unmatched' }),
    ).toBe(1);
    expect(
      sample(res.body, 'atelier_api_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBe(1);
  });
});
