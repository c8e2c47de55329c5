import { once } from 'node:events';
import { type AddressInfo, connect } from 'node:net';
import { DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { API_KEY, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** Every route of the HTTP API, as the contract lists it. */
const ROUTES: Array<[string, string]> = [
  ['POST', '/v1/drawings'],
  ['POST', '/v1/cme/operations'],
  ['GET', '/v1/jobs/{id}'],
  ['POST', '/v1/jobs/{id}/cancel'],
  ['POST', '/v1/batches'],
  ['GET', '/v1/batches/{id}'],
  ['POST', '/v1/batches/{id}/cancel'],
  ['POST', '/v1/batches/{id}/pause'],
  ['POST', '/v1/batches/{id}/resume'],
  ['GET', '/v1/batches/{id}/results'],
  ['GET', '/v1/dead-letters'],
  ['GET', '/v1/dead-letters/{id}'],
  ['DELETE', '/v1/dead-letters/{id}'],
  ['POST', '/v1/dead-letters/{id}/replay'],
  ['POST', '/v1/dead-letters/replay'],
  ['POST', '/v1/dead-letters/purge'],
  ['GET', '/v1/images/{key}'],
  ['GET', '/v1/usage'],
  ['GET', '/v1/stats'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
];

describe('GET /openapi.json', () => {
  it('documents every route the server has, with bodies from the shared schemas', async () => {
    const api = await startApi(ctx);
    const res = await api.call({ method: 'GET', url: '/openapi.json', auth: false });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const [method, path] of ROUTES) {
      expect(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
      const url = path.replace('{id}', ':id').replace('{key}', '*');
      expect(api.app.hasRoute({ method: method as 'GET', url }), `${method} ${url} is served`).toBe(
        true,
      );
    }
    const documented = Object.values(doc.paths).flatMap((ops) => Object.keys(ops as object));
    expect(documented).toHaveLength(ROUTES.length);

    const drawing = doc.components.schemas.DrawingRequest;
    expect(drawing.required).toEqual(['text', 'style', 'resolution']);
    expect(drawing.properties.style.enum).toContain('油画');
    expect(drawing.properties.num).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 6,
      default: 1,
    });
    expect(doc.components.schemas.CmeOperationRequest.properties.action.enum).toContain(
      'Material/DeleteMaterial',
    );
    expect(
      doc.components.schemas.BatchRequest.properties.items.items.properties.idempotencyKey,
    ).toBeUndefined();
    expect(doc.components.schemas.StatsSeries.required).toEqual(
      expect.arrayContaining(['times', 'queues', 'providerCodes', 'images']),
    );
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining([
        'VALIDATION_FAILED',
        'RATE_LIMITED',
        'REDIS_UNAVAILABLE',
        'CALLBACK_URL_REFUSED',
        'SHUTTING_DOWN',
      ]),
    );
    // A 503 of a request that enqueues may name the id to look up.
    for (const path of ['/v1/drawings', '/v1/cme/operations', '/v1/batches']) {
      const unavailable = doc.paths[path].post.responses['503'];
      expect(unavailable.description, path).toMatch(/outcome: "unknown", id/);
    }
    // A 429 of a request that enqueues may be its tenant's quota, with what it stood at.
    for (const path of ['/v1/drawings', '/v1/cme/operations', '/v1/batches']) {
      const limited = doc.paths[path].post.responses['429'];
      expect(limited.description, path).toMatch(
        /QUOTA_EXCEEDED \(details \{limit, used, requested, resetAt\}/,
      );
    }
    const quota = doc.components.schemas.QuotaExceededError.properties.error.properties.details;
    expect(quota.required).toEqual(['limit', 'used', 'requested', 'resetAt']);
    expect(doc.paths['/v1/usage'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/UsageReport',
    });
    expect(doc.paths['/v1/dead-letters'].get.responses['403'].description).toBe('FORBIDDEN');
    expect(doc.info.description).toContain('idempotency keys are per tenant');
    const outcome = doc.components.schemas.OutcomeUnknownError.properties.error.properties.details;
    expect(outcome.properties.outcome).toMatchObject({ const: 'unknown' });
    expect(doc.components.schemas.Batch.properties.state.enum).toEqual([
      'open',
      'paused',
      'cancelling',
      'completed',
      'incomplete',
      'cancelled',
    ]);
    expect(doc.components.schemas.Batch.properties.notQueued.type).toBe('array');
    expect(doc.components.schemas.BatchResultLine.properties.state.enum).toContain('not_queued');
    expect(doc.components.schemas.BatchResultLine.properties.state.enum).toContain('cancelled');
  });
});

describe('GET /metrics', () => {
  it('exposes queue depth per state, open batches and dead letters by code', async () => {
    const api = await startApi(ctx);
    await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING });
    await api.call({ method: 'POST', url: '/v1/batches', payload: { items: [DRAWING, DRAWING] } });
    const dl = new DeadLetterStore(ctx.connection(), api.prefix);
    for (const id of ['dr_x1', 'dr_x2']) {
      await dl.insert({
        id,
        queue: 'drawing',
        kind: 'drawing',
        code: 'POLL_TIMEOUT',
        message: 'm',
        attempts: 1,
        history: [],
        request: { ...DRAWING, num: 1 },
        meta: { enqueuedAt: 1 },
        failedAt: 1,
      });
    }
    const res = await api.call({ method: 'GET', url: '/metrics', auth: false });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^atelier_queue_jobs\{queue="drawing",state="prioritized"\} 3$/m);
    expect(res.body).toMatch(/^atelier_queue_jobs\{queue="cme",state="waiting"\} 0$/m);
    expect(res.body).toMatch(/^atelier_batches_open 1$/m);
    expect(res.body).toMatch(/^atelier_dead_letters\{code="POLL_TIMEOUT"\} 2$/m);
    expect(res.body).toMatch(
      /^atelier_api_requests_total\{method="POST",route="\/v1\/drawings",status="202"\} 1$/m,
    );
  });
});

describe('health', () => {
  it('/healthz says the process is up; /readyz that Redis answers', async () => {
    const api = await startApi(ctx);
    expect((await api.call({ method: 'GET', url: '/healthz', auth: false })).json()).toEqual({
      status: 'ok',
    });
    expect((await api.call({ method: 'GET', url: '/readyz', auth: false })).json()).toEqual({
      status: 'ready',
    });
  });
});

describe('shutdown', () => {
  it('answers a request that arrives while the server closes with 503 SHUTTING_DOWN, in the error shape', async () => {
    const api = await startApi(ctx);
    let arrived = () => {};
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A slow request keeps its connection open while the server closes.
    api.app.get('/test/slow', async () => {
      arrived();
      await held;
      return { done: true };
    });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.app.server.address() as AddressInfo;

    const socket = connect(port, '127.0.0.1');
    ctx.onCleanup(async () => socket.destroy());
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
    });
    const ended = once(socket, 'close');
    socket.write('GET /test/slow HTTP/1.1\r\nHost: atelier\r\n\r\n');
    await inFlight;
    const closing = api.app.close();
    await waitFor(() => !api.app.server.listening, { what: 'the server to stop listening' });
    // Pipelined on the open connection, so it reaches the router while the server closes.
    socket.write(
      `GET /v1/jobs/dr_x HTTP/1.1\r\nHost: atelier\r\nAuthorization: Bearer ${API_KEY}\r\n\r\n`,
    );
    release();
    await ended;
    await closing;

    const [slow, late] = received.split(/(?=HTTP\/1\.1 )/);
    expect(slow).toMatch(/^HTTP\/1\.1 200 /);
    expect(late).toMatch(/^HTTP\/1\.1 503 /);
    expect(late).toMatch(/^retry-after: 1\r$/im);
    const body = late?.slice(late.indexOf('\r\n\r\n') + 4) ?? '';
    expect(JSON.parse(body)).toEqual({
      error: { code: 'SHUTTING_DOWN', message: expect.any(String) },
    });
  });
});
