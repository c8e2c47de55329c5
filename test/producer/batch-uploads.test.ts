import { type ClientRequest, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { API_KEY, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

interface Upload {
  req: ClientRequest;
  answer: Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
}

/** A batch upload over a real socket; the body is sent as the test writes it. */
function upload(base: string, contentType: string, length?: number): Upload {
  const req = request(`${base}/v1/batches`, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      authorization: `Bearer ${API_KEY}`,
      ...(length !== undefined ? { 'content-length': String(length) } : {}),
    },
  });
  const answer = new Promise<Upload['answer'] extends Promise<infer T> ? T : never>(
    (resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
    },
  );
  answer.catch(() => undefined);
  // An upload a failed test left open would keep the server from closing.
  ctx.onCleanup(async () => req.destroy());
  return { req, answer };
}

describe('ATELIER_MAX_CONCURRENT_BATCH_UPLOADS', () => {
  it('reads at most that many large batch bodies at once; the next gets 429 with Retry-After, small ones pass', async () => {
    const api = await startApi(ctx, { env: { ATELIER_MAX_CONCURRENT_BATCH_UPLOADS: '2' } });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const line = `${JSON.stringify(DRAWING)}\n`;

    // Two streamed bodies (no Content-Length: counted as large), still being sent.
    const first = upload(base, 'application/x-ndjson');
    const second = upload(base, 'application/json');
    first.req.write(line);
    second.req.write(`{"items":[${JSON.stringify(DRAWING)}`);
    await waitFor(
      async () => {
        // Over 1 MiB by its Content-Length (one item and blank lines).
        const padded = line + '\n'.repeat(2 * 1024 * 1024);
        const third = upload(base, 'application/x-ndjson', Buffer.byteLength(padded));
        third.req.end(padded);
        const res = await third.answer;
        return res.status === 429 ? res : undefined;
      },
      { what: 'a third large upload to be refused' },
    ).then((res) => {
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(res.body).error).toMatchObject({
        code: 'TOO_MANY_BATCH_UPLOADS',
        message: expect.stringContaining('ATELIER_MAX_CONCURRENT_BATCH_UPLOADS'),
      });
    });

    // A small body (Content-Length up to 1 MiB) is read meanwhile.
    const small = upload(base, 'application/x-ndjson', Buffer.byteLength(line));
    small.req.end(line);
    expect((await small.answer).status).toBe(202);

    // Once one of them is done, the next large one is read.
    first.req.end(line);
    expect((await first.answer).status).toBe(202);
    const next = upload(base, 'application/x-ndjson');
    next.req.write(line); // streamed: no Content-Length
    next.req.end();
    expect((await next.answer).status).toBe(202);
    second.req.end(']}');
    expect((await second.answer).status).toBe(202);
    expect(await api.drawingQueue.count()).toBe(5);
  });

  it('frees the slot of an upload whose client went away', async () => {
    const api = await startApi(ctx, { env: { ATELIER_MAX_CONCURRENT_BATCH_UPLOADS: '1' } });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const gone = upload(base, 'application/x-ndjson');
    gone.req.write(`${JSON.stringify(DRAWING)}\n`);
    await waitFor(
      async () => {
        const probe = upload(base, 'application/x-ndjson');
        probe.req.write(`${JSON.stringify(DRAWING)}\n`); // streamed: no Content-Length
        probe.req.end();
        return (await probe.answer).status === 429;
      },
      { what: 'the only slot to be taken' },
    );
    gone.req.destroy();
    await waitFor(
      async () => {
        const after = upload(base, 'application/x-ndjson');
        after.req.write(`${JSON.stringify(DRAWING)}\n`); // streamed: no Content-Length
        after.req.end();
        return (await after.answer).status === 202;
      },
      { what: 'the slot to be given back' },
    );
  });
});
