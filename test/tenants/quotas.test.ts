import { createProducer } from '@atelier/producer';
import { createLogger, usageDay } from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { CME, DRAWING, startApi } from '../producer/api-harness.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ACME = 'key-of-acme-0001';
const BETA = 'key-of-beta-0001';
const OPS = 'key-of-ops-00001';

/** Two tenants with quotas (acme 5 images a day, any other 2) and a clock the test moves. */
async function quotaApi() {
  const clock = { now: Date.parse('2030-03-09T22:00:00Z') };
  const api = await startApi(ctx, {
    env: {
      ATELIER_API_KEYS: `acme:${ACME},beta:${BETA}`,
      ATELIER_ADMIN_KEYS: `ops:${OPS}`,
      ATELIER_QUOTAS: 'acme:5,*:2',
    },
    producer: { clock: () => clock.now },
  });
  const draw = (auth: string, fields: object = {}) =>
    api.call({ method: 'POST', url: '/v1/drawings', payload: { ...DRAWING, ...fields }, auth });
  const usage = async (auth: string, query = '?from=2030-03-09&to=2030-03-10') =>
    (await api.call({ method: 'GET', url: `/v1/usage${query}`, auth })).json();
  return { api, clock, draw, usage };
}

describe('spend quotas (images per UTC day)', () => {
  it('refuses an enqueue that would pass the quota, whole, with when it resets; the next UTC day accepts it', async () => {
    const { api, clock, draw, usage } = await quotaApi();
    expect((await draw(ACME, { num: 3 })).statusCode).toBe(202);
    const refused = await draw(ACME, { num: 3 });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe(String(2 * 3600));
    expect(refused.json().error).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringContaining('tenant acme may enqueue 5 images per UTC day'),
      details: { limit: 5, used: 3, requested: 3, resetAt: '2030-03-10T00:00:00.000Z' },
    });
    // Exactly up to the quota is fine; one more image is not.
    expect((await draw(ACME, { num: 2 })).statusCode).toBe(202);
    expect((await draw(ACME, { num: 1 })).statusCode).toBe(429);
    expect(await api.drawingQueue.count()).toBe(2);

    // Midnight UTC: a new day, a new count.
    clock.now = Date.parse('2030-03-10T00:00:01Z');
    expect((await draw(ACME, { num: 3 })).statusCode).toBe(202);
    expect(await usage(ACME)).toMatchObject({
      tenant: 'acme',
      quota: 5,
      days: [
        { day: '2030-03-09', images: 5, jobs: 2 },
        { day: '2030-03-10', images: 3, jobs: 1 },
      ],
      total: { images: 8, jobs: 3 },
    });
  });

  it('a batch counts all its items together: refused whole, nothing queued and no batch recorded', async () => {
    const { api, draw, usage } = await quotaApi();
    // beta has the fallback quota (*:2).
    const tooBig = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING, DRAWING, DRAWING], idempotencyKey: 'three' },
      auth: BETA,
    });
    expect(tooBig.statusCode).toBe(429);
    expect(tooBig.json().error.details).toMatchObject({ limit: 2, used: 0, requested: 3 });
    expect(await api.drawingQueue.count()).toBe(0);
    const missing = await api.call({ method: 'GET', url: '/v1/batches/b_three@beta', auth: BETA });
    expect(missing.statusCode).toBe(404);

    const fits = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING, DRAWING], idempotencyKey: 'two' },
      auth: BETA,
    });
    expect(fits.statusCode).toBe(202);
    // Its key sent again names the batch already queued: not refused, not counted twice.
    const again = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING, DRAWING], idempotencyKey: 'two' },
      auth: BETA,
    });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await draw(BETA)).statusCode).toBe(429);
    expect((await usage(BETA)).days[0]).toEqual({ day: '2030-03-09', images: 2, jobs: 2 });
    // Another tenant's quota is its own.
    expect((await draw(ACME, { num: 5 })).statusCode).toBe(202);
  });

  it('a CME operation draws no images: counted as a job, never refused by the image quota', async () => {
    const { api, draw, usage } = await quotaApi();
    expect((await draw(BETA, { num: 2 })).statusCode).toBe(202);
    const cme = await api.call({
      method: 'POST',
      url: '/v1/cme/operations',
      payload: CME,
      auth: BETA,
    });
    expect(cme.statusCode).toBe(202);
    expect((await usage(BETA)).days[0]).toEqual({ day: '2030-03-09', images: 2, jobs: 2 });
  });

  it('usage days are checked: format, order and span name the field', async () => {
    const { usage } = await quotaApi();
    for (const [query, field, rule] of [
      ['?from=2030-3-9', 'query.from', 'format'],
      ['?from=2030-02-30', 'from', 'date'],
      ['?from=2030-03-10&to=2030-03-09', 'from', 'order'],
      ['?from=2028-01-01&to=2030-03-09', 'from', 'range'],
      ['?day=2030-03-09', 'query.day', 'unknownField'],
    ] as const) {
      const { error } = await usage(ACME, query);
      expect(error?.code, query).toBe('VALIDATION_FAILED');
      expect(error.details[0], query).toMatchObject({ field, rule });
    }
  });

  it("the API counts images per configured tenant in /metrics, and today's usage from Redis", async () => {
    const { api, draw } = await quotaApi();
    await draw(ACME, { num: 2 });
    await draw(ACME, { num: 9 }); // refused: not counted
    const text = (await api.call({ method: 'GET', url: '/metrics', auth: false })).body;
    expect(text).toContain('atelier_tenant_images_total{tenant="acme"} 2');
    expect(text).toContain('atelier_tenant_images_total{tenant="beta"} 0');
    expect(text).toContain('atelier_tenant_images_total{tenant="ops"} 0');
    expect(text).toMatch(/atelier_tenant_images_today\{tenant="acme"\} \d+/);
  });
});

describe('usage of tenants without a quota', () => {
  it('is counted in the enqueuing process and written within a second, and at close', async () => {
    const prefix = ctx.prefix('tally');
    const logger = createLogger({ name: 't', level: 'warn' });
    const open = () => createProducer({ redisUrl: ctx.url, prefix, logger });
    const writer = open();
    const reader = open();
    ctx.onCleanup(() => reader.close());
    const day = usageDay(Date.now());
    const read = async () => (await reader.usage({ from: day, to: day })).days[0];
    for (let i = 0; i < 3; i++) await writer.enqueueDrawing({ ...DRAWING, num: 2 });
    // Another process sees it once the writer's tally is written (every second).
    await waitFor(async () => ((await read())?.images === 6 ? true : undefined), {
      what: "the writer's counts",
    });
    expect(await read()).toMatchObject({ images: 6, jobs: 3 });
    // What is left at close is written then.
    await writer.enqueueCmeOperation(CME);
    await writer.enqueueDrawing({ ...DRAWING, num: 1 });
    await writer.close();
    expect(await read()).toMatchObject({ images: 7, jobs: 5 });
  });
});
