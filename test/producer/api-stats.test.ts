import { STATS_FIELD, type StatsCounts, TimeSeries } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { API_KEY, startApi } from './api-harness.ts';

/** `GET /v1/stats` is for admin keys (`ATELIER_ADMIN_KEYS`). */
const ADMIN = 'stats-admin-key';
const withAdmin = { env: { ATELIER_ADMIN_KEYS: `ops:${ADMIN}` } };

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const counts = (entries: Array<[number, Record<string, number>]>): StatsCounts =>
  new Map(entries.map(([at, fields]) => [at, new Map(Object.entries(fields))]));

describe('GET /v1/stats', () => {
  it('serves the time series the workers wrote, in the steps asked for', async () => {
    const api = await startApi(ctx, withAdmin);
    const hour = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await new TimeSeries(ctx.connection(), api.prefix).add(
      counts([
        [
          hour + 2 * MINUTE,
          {
            [STATS_FIELD.queue('drawing', 'completed')]: 5,
            [STATS_FIELD.queue('drawing', 'dead')]: 1,
            [STATS_FIELD.latency('drawing', 4)]: 5,
            [STATS_FIELD.code('drawing', '200')]: 10,
            [STATS_FIELD.images('default')]: 7,
          },
        ],
        [hour + 7 * MINUTE, { [STATS_FIELD.queue('cme', 'retried')]: 2 }],
      ]),
    );

    const res = await api.call({
      auth: ADMIN,
      method: 'GET',
      url: `/v1/stats?from=${hour}&to=${hour + 10 * MINUTE}&step=300`,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      from: hour,
      to: hour + 10 * MINUTE,
      step: 300,
      resolution: 'minute',
      times: [hour, hour + 5 * MINUTE],
      providerCodes: { drawing: { '200': [10, 0] } },
      images: { default: [7, 0] },
      cmeLogins: {},
    });
    expect(body.queues.drawing).toEqual({
      completed: [5, 0],
      dead: [1, 0],
      retried: [0, 0],
      latencyMs: { p50: [1750, null], p95: [2425, null], p99: [2485, null] },
    });
    expect(body.queues.cme.retried).toEqual([0, 2]);

    // ISO dates and hour steps (hour buckets); defaults: the last hour by the minute.
    const hourly = await api.call({
      auth: ADMIN,
      method: 'GET',
      url: `/v1/stats?from=${new Date(hour).toISOString()}&to=${new Date(hour + HOUR).toISOString()}&step=3600`,
    });
    expect(hourly.json()).toMatchObject({ resolution: 'hour', times: [hour] });
    expect(hourly.json().queues.drawing.completed).toEqual([5]);
    const recent = (await api.call({ auth: ADMIN, method: 'GET', url: '/v1/stats' })).json();
    expect(recent.step).toBe(60);
    expect(recent.times.length).toBeGreaterThanOrEqual(60);
    expect(recent.times.length).toBeLessThanOrEqual(61);
  });

  it.each([
    ['step=90', 'step', 'multipleOf'],
    ['step=5400', 'step', 'multipleOf'],
    ['step=ten', 'step', 'integer'],
    ['step=30', 'step', 'min'],
    ['from=yesterday', 'from', 'time'],
    ['to=-5', 'to', 'time'],
    ['bucket=60', 'bucket', 'unknownField'],
    [`from=${Date.now() + HOUR}`, 'from', 'beforeTo'],
    [`from=${Date.now() - 40 * DAY}&step=3600`, 'from', 'range'],
    [`from=${Date.now() - 3 * DAY}&step=60`, 'step', 'minuteRetention'],
    [`from=${Date.now() - 47 * HOUR}&step=60`, 'step', 'maxPoints'],
  ])('?%s is refused with 400 naming %s and the rule %s', async (queryString, field, rule) => {
    const api = await startApi(ctx, withAdmin);
    const res = await api.call({ auth: ADMIN, method: 'GET', url: `/v1/stats?${queryString}` });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toContainEqual(expect.objectContaining({ field, rule }));
    expect(error.message).toContain(field);
  });

  it('needs an API key', async () => {
    const api = await startApi(ctx, withAdmin);
    const res = await api.call({ method: 'GET', url: '/v1/stats', auth: false });
    // A tenant's key (a bare one is tenant `default`) is not an admin key.
    const tenant = await api.call({ method: 'GET', url: '/v1/stats', auth: API_KEY });
    expect(tenant.statusCode).toBe(403);
    expect(tenant.json().error.code).toBe('FORBIDDEN');
    expect(res.statusCode).toBe(401);
  });
});
