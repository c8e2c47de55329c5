import {
  DEFAULT_ATTEMPTS,
  DEFAULT_PRIORITY,
  DEFAULT_RETENTION,
  jobIdFor,
  toBullmqPriority,
} from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { CME, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('POST /v1/drawings', () => {
  it('answers 202 {id} and queues the job exactly as workers expect it', async () => {
    const api = await startApi(ctx);
    const before = Date.now();
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, num: 2 },
    });
    expect(res.statusCode).toBe(202);
    const { id } = res.json();
    expect(id).toMatch(/^dr_/);
    expect(res.headers.location).toBe(`/v1/jobs/${id}`);

    const job = await api.drawingQueue.getJob(id);
    expect(job?.name).toBe('drawing');
    expect(job?.data).toEqual({
      kind: 'drawing',
      task: { ...DRAWING, num: 2 },
      meta: { enqueuedAt: expect.any(Number), tenant: 'default', usageDay: expect.any(String) },
    });
    expect(job?.data.meta.enqueuedAt).toBeGreaterThanOrEqual(before);
    expect(job?.priority).toBe(toBullmqPriority(DEFAULT_PRIORITY.single));
    expect(job?.opts).toMatchObject({
      attempts: DEFAULT_ATTEMPTS.drawing,
      backoff: { type: 'atelier' },
      removeOnComplete: {
        age: DEFAULT_RETENTION.completedAgeSec,
        count: DEFAULT_RETENTION.completedCount,
      },
      removeOnFail: { age: DEFAULT_RETENTION.failedAgeSec, count: DEFAULT_RETENTION.failedCount },
    });
  });

  it('defaults num to 1 and maps the caller priority onto BullMQ (one above polls)', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, priority: 7 },
    });
    const job = await api.drawingQueue.getJob(res.json().id);
    expect(job?.data.task.num).toBe(1);
    expect(job?.priority).toBe(8);
  });

  it('refuses a bad request with VALIDATION_FAILED naming each field and rule, and queues nothing', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { text: '', style: 'nope', resolution: '1024*1024', num: 99, extra: true },
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'text', rule: 'minLength' }),
        expect.objectContaining({ field: 'style', rule: 'oneOf' }),
        expect.objectContaining({ field: 'num', rule: 'max' }),
        expect.objectContaining({ field: 'extra', rule: 'unknownField' }),
      ]),
    );
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('answers MALFORMED_JSON (400, not 500) for a body that is not JSON, and for an empty one', async () => {
    const api = await startApi(ctx);
    for (const payload of ['{"text": "a",', '']) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/drawings',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('MALFORMED_JSON');
    }
  });

  it('answers PAYLOAD_TOO_LARGE (413) past ATELIER_BODY_LIMIT_BYTES', async () => {
    const api = await startApi(ctx, { env: { ATELIER_BODY_LIMIT_BYTES: '2048' } });
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, text: 'x'.repeat(4000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers UNSUPPORTED_MEDIA_TYPE (415) for other content types, NDJSON included', async () => {
    const api = await startApi(ctx);
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/x-ndjson',
    ]) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/drawings',
        payload: 'text=a',
        headers: { 'content-type': type },
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('answers NOT_FOUND for unknown routes', async () => {
    const api = await startApi(ctx);
    const res = await api.call({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('answers METHOD_NOT_ALLOWED with Allow for a known path and another method, and changes nothing', async () => {
    const api = await startApi(ctx);
    const cases = [
      { method: 'GET', url: '/v1/drawings', allow: 'POST' },
      { method: 'PUT', url: '/v1/jobs/dr_x', allow: 'GET, HEAD' },
      { method: 'POST', url: '/v1/dead-letters/dr_x?x=1', allow: 'GET, HEAD, DELETE' },
      { method: 'DELETE', url: '/v1/batches', allow: 'POST' },
    ] as const;
    for (const { method, url, allow } of cases) {
      const res = await api.call({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.json().error).toMatchObject({
        code: 'METHOD_NOT_ALLOWED',
        details: { allowed: allow.split(', ') },
      });
      expect(res.json().error.message).toContain(method);
    }
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it("answers a path the router cannot decode in the error shape, not Fastify's", async () => {
    const api = await startApi(ctx);
    for (const url of ['/v1/jobs/%zz', `/v1/jobs/dr_${'x'.repeat(300)}`]) {
      const res = await api.call({ method: 'GET', url });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, url).toBeLessThan(500);
      expect(res.json(), url).toEqual({
        error: { code: 'BAD_REQUEST', message: expect.any(String) },
      });
    }
  });
});

describe('idempotency keys', () => {
  it('returns the same id for the same key and keeps one job (202 again, Idempotent-Replayed)', async () => {
    const api = await startApi(ctx);
    const payload = { ...DRAWING, idempotencyKey: 'order-42' };
    const first = await api.call({ method: 'POST', url: '/v1/drawings', payload });
    const second = await api.call({ method: 'POST', url: '/v1/drawings', payload });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(first.json().id).toBe(jobIdFor('drawing', 'order-42'));
    expect(second.json().id).toBe(first.json().id);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await api.drawingQueue.count()).toBe(1);
  });

  it('holds across an API restart: a new producer and server on the same Redis find the job', async () => {
    const first = await startApi(ctx);
    const payload = { ...DRAWING, idempotencyKey: 'restart/å 1' };
    const a = await first.call({ method: 'POST', url: '/v1/drawings', payload });
    await first.app.close();
    await first.producer.close();

    const second = await startApi(ctx, { prefix: first.prefix });
    const b = await second.call({ method: 'POST', url: '/v1/drawings', payload });
    expect(b.statusCode).toBe(202);
    expect(b.json().id).toBe(a.json().id);
    expect(b.json().id).toMatch(/^dr~/); // unsafe characters: hashed
    expect(await second.drawingQueue.count()).toBe(1);
  });

  it('keeps ids unique across kinds for the same key', async () => {
    const api = await startApi(ctx);
    const d = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, idempotencyKey: 'k1' },
    });
    const c = await api.call({
      method: 'POST',
      url: '/v1/cme/operations',
      payload: { ...CME, idempotencyKey: 'k1' },
    });
    expect(d.json().id).not.toBe(c.json().id);
    expect(c.json().id).toBe(jobIdFor('cme', 'k1'));
  });
});

describe('POST /v1/cme/operations', () => {
  it('queues the operation on the cme queue, named after its action', async () => {
    const api = await startApi(ctx);
    const res = await api.call({ method: 'POST', url: '/v1/cme/operations', payload: CME });
    expect(res.statusCode).toBe(202);
    const job = await api.cmeQueue.getJob(res.json().id);
    expect(job?.name).toBe('Material/DeleteMaterial');
    expect(job?.data).toEqual({
      kind: 'cme',
      operation: {
        userId: 'user_001',
        action: 'Material/DeleteMaterial',
        params: { MaterialId: 'mat-1' },
      },
      meta: { enqueuedAt: expect.any(Number), tenant: 'default', usageDay: expect.any(String) },
    });
    expect(job?.opts.attempts).toBe(DEFAULT_ATTEMPTS.cme);
    expect(job?.priority).toBe(toBullmqPriority(DEFAULT_PRIORITY.single));
  });

  it('checks params against the action and names params.<field>', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/cme/operations',
      payload: { ...CME, params: { MaterialId: '', Extra: 1 } },
    });
    expect(res.statusCode).toBe(400);
    const fields = res.json().error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['params.MaterialId', 'params.Extra']));
    expect(await api.cmeQueue.count()).toBe(0);
  });
});
