import type { DeadLetter } from '@atelier/shared';
import { BatchLedger, DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { type ApiHarness, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const items = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...DRAWING, text: `item ${i}` }));

async function batchInfo(api: ApiHarness, id: string) {
  return (await api.call({ method: 'GET', url: `/v1/batches/${id}` })).json();
}

async function results(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/batches/${id}/results` });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
  return res.body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('POST /v1/batches (JSON)', () => {
  it('queues every item with batch meta and answers 202 {id, total}', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: items(3) },
    });
    expect(res.statusCode).toBe(202);
    const { id, total } = res.json();
    expect(total).toBe(3);
    expect(id).toMatch(/^b_/);
    expect(res.headers.location).toBe(`/v1/batches/${id}`);
    for (let i = 0; i < 3; i++) {
      const job = await api.drawingQueue.getJob(`dr_${id}~${i}`);
      expect(job?.name).toBe('drawing');
      expect(job?.data).toEqual({
        kind: 'drawing',
        task: { ...DRAWING, text: `item ${i}`, num: 1 },
        meta: {
          enqueuedAt: expect.any(Number),
          batchId: id,
          batchIndex: i,
          tenant: 'default',
          usageDay: expect.any(String),
        },
      });
    }
    expect(await batchInfo(api, id)).toEqual({
      id,
      total: 3,
      completed: 0,
      dead: 0,
      cancelled: 0,
      pending: 3,
      state: 'open',
      enqueued: 3,
      createdAt: expect.any(Number),
      tenant: 'default',
    });
  });

  it('validates every item before queueing anything, naming items.<index>.<field>', async () => {
    const api = await startApi(ctx);
    const bad = [...items(4), { ...DRAWING, style: 'nope' }, { text: 'x', resolution: '1*1' }];
    const res = await api.call({ method: 'POST', url: '/v1/batches', payload: { items: bad } });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual([
      expect.objectContaining({ field: 'items.4.style', rule: 'oneOf' }),
      expect.objectContaining({ field: 'items.5.style', rule: 'oneOf' }),
      expect.objectContaining({ field: 'items.5.resolution', rule: 'oneOf' }),
    ]);
    expect(await api.drawingQueue.count()).toBe(0);
    expect(await new BatchLedger(ctx.connection(), api.prefix).list()).toEqual([]);
  });

  it('refuses an item-level idempotencyKey (items get ids from the batch)', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING, { ...DRAWING, idempotencyKey: 'mine' }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([
      expect.objectContaining({ field: 'items.1.idempotencyKey', rule: 'notAllowed' }),
    ]);
  });

  it('refuses options in the query string of a JSON batch (they belong in the body), queueing nothing', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/batches?idempotencyKey=nightly&priority=1',
      payload: { items: items(2) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.json().error.details).toEqual([
      expect.objectContaining({ field: 'query.idempotencyKey', rule: 'unknownField' }),
      expect.objectContaining({ field: 'query.priority', rule: 'unknownField' }),
    ]);
    expect(res.json().error.details[0].message).toMatch(/in the body/);
    expect(await api.drawingQueue.count()).toBe(0);
    expect(await new BatchLedger(ctx.connection(), api.prefix).list()).toEqual([]);
  });

  it('refuses an empty batch, one over ATELIER_BATCH_MAX_ITEMS, and unknown fields', async () => {
    const api = await startApi(ctx, { env: { ATELIER_BATCH_MAX_ITEMS: '3' } });
    const cases: Array<[unknown, string, string]> = [
      [{ items: [] }, 'items', 'minItems'],
      [{ items: items(4) }, 'items', 'maxItems'],
      [{ items: items(1), colour: 'red' }, 'colour', 'unknownField'],
      [{ item: items(1) }, 'items', 'required'],
      [{ items: items(1), priority: 0 }, 'priority', 'min'],
    ];
    for (const [payload, field, rule] of cases) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/batches',
        payload: payload as object,
      });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 60)).toBe(400);
      expect(res.json().error.details).toContainEqual(expect.objectContaining({ field, rule }));
    }
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('returns the same batch for the same idempotencyKey, and refuses it for another size', async () => {
    const api = await startApi(ctx);
    const payload = { items: items(3), idempotencyKey: 'nightly-2024-05-01' };
    const first = await api.call({ method: 'POST', url: '/v1/batches', payload });
    const again = await api.call({ method: 'POST', url: '/v1/batches', payload });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    expect(first.json().id).toBe('b_nightly-2024-05-01');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await api.drawingQueue.count()).toBe(3);
    expect((await batchInfo(api, first.json().id)).enqueued).toBe(3);

    const other = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { ...payload, items: items(4) },
    });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('refuses the same idempotencyKey with other items or options of the same size (409 naming the key), queueing nothing more', async () => {
    const api = await startApi(ctx, {
      env: { ATELIER_CALLBACK_SECRET: 's', ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' },
    });
    const payload = { items: items(3), idempotencyKey: 'nightly-2024-05-02', priority: 7 };
    const first = await api.call({ method: 'POST', url: '/v1/batches', payload });
    expect(first.statusCode).toBe(202);
    const { id } = first.json();

    const changed = [
      { ...payload, items: [...items(2), { ...DRAWING, text: 'another picture' }] },
      { ...payload, items: [...items(3)].reverse() },
      { ...payload, priority: 8 },
      { ...payload, callbackUrl: 'http://127.0.0.1:9/hook' },
    ];
    for (const body of changed) {
      const res = await api.call({ method: 'POST', url: '/v1/batches', payload: body });
      expect(res.statusCode, JSON.stringify(body).slice(0, 120)).toBe(409);
      expect(res.json().error).toMatchObject({
        code: 'IDEMPOTENCY_CONFLICT',
        details: { field: 'idempotencyKey', idempotencyKey: 'nightly-2024-05-02', id },
      });
      expect(res.json().error.message).toContain('nightly-2024-05-02');
    }
    expect(await api.drawingQueue.count()).toBe(3);
    const job = await api.drawingQueue.getJob(`dr_${id}~2`);
    expect(job?.data.task.text).toBe('item 2');

    // The same batch written differently (field order, defaults spelled out, NDJSON) is the same.
    const same = {
      priority: 7,
      idempotencyKey: 'nightly-2024-05-02',
      items: items(3).map(({ resolution, style, text }) => ({ num: 1, resolution, style, text })),
    };
    const again = await api.call({ method: 'POST', url: '/v1/batches', payload: same });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    const ndjson = await api.call({
      method: 'POST',
      url: '/v1/batches?idempotencyKey=nightly-2024-05-02&priority=7',
      payload: items(3)
        .map((item) => JSON.stringify(item))
        .join('\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(ndjson.statusCode).toBe(202);
    expect(ndjson.json()).toEqual(first.json());
    expect(await api.drawingQueue.count()).toBe(3);
  });

  it('serves a batch, its results and its items whose ids carry the longest readable key', async () => {
    const api = await startApi(ctx);
    const key = 'b'.repeat(120);
    const res = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: items(2), idempotencyKey: key },
    });
    const { id } = res.json();
    expect(id).toBe(`b_${key}`);
    expect(await batchInfo(api, id)).toMatchObject({ id, total: 2, pending: 2 });
    const lines = await results(api, id);
    expect(lines.map((line) => line.jobId)).toEqual([`dr_${id}~0`, `dr_${id}~1`]);
    const item = await api.call({ method: 'GET', url: `/v1/jobs/${lines[1].jobId}` });
    expect(item.statusCode).toBe(200);
    expect(item.json()).toMatchObject({ id: lines[1].jobId, kind: 'drawing', state: 'queued' });
  });

  it('answers NOT_FOUND for unknown batches and their results', async () => {
    const api = await startApi(ctx);
    for (const url of ['/v1/batches/b_nope', '/v1/batches/b_nope/results']) {
      const res = await api.call({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });
});

describe('POST /v1/batches (NDJSON)', () => {
  const ndjson = (lines: string[]) => lines.join('\n');
  const headers = { 'content-type': 'application/x-ndjson' };

  it('reads one request per line (blank lines and CRLF allowed), options from the query string', async () => {
    const api = await startApi(ctx, {
      env: { ATELIER_CALLBACK_SECRET: 's', ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' },
    });
    const body = [
      JSON.stringify({ ...DRAWING, text: 'first' }),
      '',
      `${JSON.stringify({ ...DRAWING, text: 'second', num: 2 })}\r`,
      JSON.stringify({ ...DRAWING, text: 'third', priority: 9 }),
      '',
    ];
    const query = new URLSearchParams({
      callbackUrl: 'http://127.0.0.1:9/done',
      priority: '20',
      idempotencyKey: 'nd-1',
    });
    const res = await api.call({
      method: 'POST',
      url: `/v1/batches?${query}`,
      payload: ndjson(body),
      headers,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ id: 'b_nd-1', total: 3 });
    const jobs = await Promise.all([0, 1, 2].map((i) => api.drawingQueue.getJob(`dr_b_nd-1~${i}`)));
    expect(jobs.map((j) => j?.data.task.text)).toEqual(['first', 'second', 'third']);
    expect(jobs.map((j) => j?.priority)).toEqual([21, 21, 10]);
    expect(jobs[1]?.data.task.num).toBe(2);
    const ledger = await new BatchLedger(ctx.connection(), api.prefix).get('b_nd-1');
    expect(ledger?.callbackUrl).toBe('http://127.0.0.1:9/done');
  });

  it('names the line of a line that is not JSON, and queues nothing', async () => {
    const api = await startApi(ctx);
    const body = ndjson([
      JSON.stringify(DRAWING),
      '',
      JSON.stringify(DRAWING),
      '{"text": "oops"',
      JSON.stringify(DRAWING),
    ]);
    const res = await api.call({ method: 'POST', url: '/v1/batches', payload: body, headers });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'MALFORMED_JSON', details: { line: 4 } });
    expect(res.json().error.message).toContain('line 4');
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('names the line of an invalid item (and its items.<index> path), and queues nothing', async () => {
    const api = await startApi(ctx);
    const body = ndjson([
      '',
      JSON.stringify(DRAWING),
      JSON.stringify({ ...DRAWING, num: 0 }),
      JSON.stringify(DRAWING),
    ]);
    const res = await api.call({ method: 'POST', url: '/v1/batches', payload: body, headers });
    expect(res.statusCode).toBe(400);
    const [issue] = res.json().error.details;
    expect(issue).toMatchObject({ field: 'items.1.num', rule: 'min' });
    expect(issue.message).toMatch(/^line 3: /);
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('refuses a streamed body past the body limit with PAYLOAD_TOO_LARGE', async () => {
    const api = await startApi(ctx, { env: { ATELIER_BODY_LIMIT_BYTES: '4096' } });
    const body = ndjson(items(100).map((item) => JSON.stringify(item)));
    const res = await api.call({ method: 'POST', url: '/v1/batches', payload: body, headers });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('queues a batch larger than one chunk, in order, with exact counts', async () => {
    const api = await startApi(ctx);
    const body = ndjson(items(2345).map((item) => JSON.stringify(item)));
    const res = await api.call({ method: 'POST', url: '/v1/batches', payload: body, headers });
    expect(res.statusCode).toBe(202);
    const { id, total } = res.json();
    expect(total).toBe(2345);
    expect(await api.drawingQueue.count()).toBe(2345);
    expect((await api.drawingQueue.getJob(`dr_${id}~2344`))?.data.task.text).toBe('item 2344');
    const lines = await results(api, id);
    expect(lines).toHaveLength(2345);
    expect(lines.every((line, i) => line.index === i && line.state === 'pending')).toBe(true);
  });
});

describe('batch progress and results', () => {
  it('counts each item once: settled twice, dead then replayed then completed', async () => {
    const api = await startApi(ctx);
    const created = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: items(3) },
    });
    const { id } = created.json();
    const ledger = new BatchLedger(ctx.connection(), api.prefix);
    const jobId = (i: number) => `dr_${id}~${i}`;

    // Item 0 completes, and a crashed worker settles it a second time.
    const done0 = {
      index: 0,
      jobId: jobId(0),
      state: 'completed' as const,
      images: ['a.png'],
      taskId: 't0',
    };
    await ledger.settle(id, done0);
    await ledger.settle(id, done0);
    // Item 1 dies (the worker files a dead letter and settles the item).
    const entry: DeadLetter = {
      id: jobId(1),
      queue: 'drawing',
      kind: 'drawing',
      code: 'POLL_TIMEOUT',
      message: 'gave up polling',
      attempts: 1,
      history: [],
      taskId: 't1',
      request: { ...DRAWING, text: 'item 1', num: 1 },
      meta: { enqueuedAt: Date.now(), batchId: id, batchIndex: 1 },
      failedAt: Date.now(),
    };
    await new DeadLetterStore(ctx.connection(), api.prefix).insert(entry);
    await ledger.settle(id, {
      index: 1,
      jobId: jobId(1),
      state: 'dead',
      code: 'POLL_TIMEOUT',
      message: 'gave up polling',
      taskId: 't1',
    });
    expect(await batchInfo(api, id)).toMatchObject({
      completed: 1,
      dead: 1,
      pending: 1,
      state: 'open',
    });

    const lines = await results(api, id);
    expect(lines).toEqual([
      { index: 0, jobId: jobId(0), state: 'completed', images: ['a.png'], taskId: 't0' },
      {
        index: 1,
        jobId: jobId(1),
        state: 'dead',
        code: 'POLL_TIMEOUT',
        message: 'gave up polling',
        taskId: 't1',
      },
      { index: 2, jobId: jobId(2), state: 'pending' },
    ]);

    // The operator replays the dead item (its failed job already gone with retention: the
    // replay queues it again from the entry; a job still waiting could not be replayed)…
    await (await api.drawingQueue.getJob(jobId(1)))?.remove();
    const replay = await api.call({ method: 'POST', url: `/v1/dead-letters/${jobId(1)}/replay` });
    expect(replay.statusCode).toBe(202);
    expect(await batchInfo(api, id)).toMatchObject({
      completed: 1,
      dead: 0,
      pending: 2,
      state: 'open',
    });
    // …then completes, as does the last item: the batch completes with exact counters.
    await ledger.settle(id, {
      index: 1,
      jobId: jobId(1),
      state: 'completed',
      images: ['b.png'],
      taskId: 't1',
    });
    await ledger.settle(id, {
      index: 2,
      jobId: jobId(2),
      state: 'completed',
      images: ['c.png'],
      taskId: 't2',
    });
    expect(await batchInfo(api, id)).toMatchObject({
      total: 3,
      completed: 3,
      dead: 0,
      pending: 0,
      state: 'completed',
    });
    expect((await results(api, id)).map((l) => l.state)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
  });
});
