import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { API_KEY, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('POST /v1/batches with a JSON body, read as it streams', () => {
  it('takes the options after the items, and names the item and position of broken JSON', async () => {
    const api = await startApi(ctx);
    const items = [DRAWING, { ...DRAWING, text: 'second' }].map((item) => JSON.stringify(item));
    const late = `{"items":[${items.join(',')}],"priority":9,"idempotencyKey":"late-options"}`;
    const res = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: late,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ id: 'b_late-options', total: 2 });
    expect((await api.drawingQueue.getJob('dr_b_late-options~1'))?.priority).toBe(10);

    const broken = `{"items":[${items[0]},{"text":"x","style":}],"priority":9}`;
    const bad = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: broken,
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({
      code: 'MALFORMED_JSON',
      details: { at: 'items.1', position: expect.any(Number) },
    });
    // Options after the items are checked like any others: unknown ones by name.
    const unknown = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: `{"items":[${items[0]}],"colour":"red"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details).toEqual([
      expect.objectContaining({ field: 'colour', rule: 'unknownField' }),
    ]);
    expect(await api.drawingQueue.count()).toBe(2);
  });

  it('refuses a body that goes wrong as soon as it does, before the client has sent the rest', async () => {
    const api = await startApi(ctx);
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (api.app.server.address() as AddressInfo).port;
    const req = request(`http://127.0.0.1:${port}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    });
    ctx.onCleanup(async () => req.destroy());
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    // Two items, then a third without the comma before it; the body is never finished.
    req.write(`{"items":[${JSON.stringify(DRAWING)},${JSON.stringify(DRAWING)} {"text":"x"}`);
    req.write(`,${JSON.stringify(DRAWING)}`);
    const res = await answer;
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatchObject({
      code: 'MALFORMED_JSON',
      message: expect.stringMatching(/expected "," or "]"/),
    });
    expect(await api.drawingQueue.count()).toBe(0);
  });
});
