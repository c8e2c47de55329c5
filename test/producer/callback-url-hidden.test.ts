import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DeadLetter, QUEUE_NAMES } from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdmin } from '../admin/admin-harness.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'packages/producer/src/bin/cli.ts');

/** A receiver's own token, in a query parameter no scrubber knows by name. */
const TOKEN = 'qs-5a4b3c2d1e0f';
const CALLBACK = `https://hooks.example.com/done?t=${TOKEN}&tenant=7#frag`;
const SHOWN = 'https://hooks.example.com/done?[redacted]';

function deadLetter(id: string): DeadLetter {
  return {
    id,
    queue: 'drawing',
    kind: 'drawing',
    code: 'POLL_TIMEOUT',
    message: 'gave up polling',
    attempts: 1,
    history: [],
    taskId: 't-1',
    request: { ...DRAWING, num: 1 },
    meta: { enqueuedAt: Date.now(), callbackUrl: CALLBACK },
    failedAt: Date.now(),
  };
}

describe("a callback URL's query string is never shown", () => {
  it('in API answers: dead-letter list and entry (as the batch endpoint already hides it)', async () => {
    const api = await startApi(ctx);
    await new DeadLetterStore(ctx.connection(), api.prefix).insert(deadLetter('dr_hidden'));
    for (const url of ['/v1/dead-letters', '/v1/dead-letters?code=POLL_TIMEOUT&queue=drawing']) {
      const list = await api.call({ method: 'GET', url });
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toContain(TOKEN);
      expect(list.json().items[0].meta.callbackUrl).toBe(SHOWN);
    }
    const one = await api.call({ method: 'GET', url: '/v1/dead-letters/dr_hidden' });
    expect(one.body).not.toContain(TOKEN);
    expect(one.json().meta.callbackUrl).toBe(SHOWN);
  });

  it('on the dashboard: dead-letter pages and bull-board job data (drawing and callback jobs)', async () => {
    const admin = await startAdmin(ctx);
    await new DeadLetterStore(admin.redis, admin.prefix).insert(deadLetter('dr_hidden'));
    const { id } = await admin.producer.enqueueDrawing({ ...DRAWING, callbackUrl: CALLBACK });
    const callbacks = new Queue(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: admin.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    await callbacks.add(
      'job.completed',
      { url: CALLBACK, event: 'job.completed', body: { id } },
      { jobId: 'cb_hidden' },
    );
    const session = await admin.login();
    for (const url of [
      '/admin/dead-letters',
      '/admin/dead-letters/dr_hidden',
      `/admin/jobs/${id}`,
      `/admin/queues/api/queues/drawing/${id}`,
      '/admin/queues/api/queues/callbacks/cb_hidden',
    ]) {
      const res = await session.get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain(TOKEN);
    }
    const drawing = JSON.parse((await session.get(`/admin/queues/api/queues/drawing/${id}`)).body);
    expect(drawing.job.data.meta.callbackUrl).toBe(SHOWN);
    const delivery = JSON.parse(
      (await session.get('/admin/queues/api/queues/callbacks/cb_hidden')).body,
    );
    expect(delivery.job.data.url).toBe(SHOWN);
  });

  it('in the CLI: dlq list --json', async () => {
    const prefix = ctx.prefix('cli-hidden');
    await new DeadLetterStore(ctx.connection(), prefix).insert(deadLetter('dr_hidden'));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [CLI, 'dlq', 'list', '--json'],
        {
          env: { PATH: process.env.PATH, REDIS_URL: ctx.url, ATELIER_QUEUE_PREFIX: prefix },
          cwd: ROOT,
          timeout: 30_000,
        },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      );
    });
    expect(out).not.toContain(TOKEN);
    expect(JSON.parse(out).items[0].meta.callbackUrl).toBe(SHOWN);
  });

  it('in the logs: an NDJSON batch names its callbackUrl in the query string', async () => {
    const api = await startApi(ctx, {
      logLevel: 'debug',
      env: { ATELIER_CALLBACK_SECRET: 's', LOG_LEVEL: 'debug' },
    });
    const query = new URLSearchParams({ callbackUrl: CALLBACK, idempotencyKey: 'logged' });
    const res = await api.call({
      method: 'POST',
      url: `/v1/batches?${query}`,
      payload: JSON.stringify(DRAWING),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.statusCode).toBe(202);
    const bad = await api.call({
      method: 'POST',
      url: `/v1/batches?${query}&colour=red`,
      payload: JSON.stringify(DRAWING),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(bad.statusCode).toBe(400);
    const logged = api.logs.text();
    expect(logged).toContain('incoming request');
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(encodeURIComponent(TOKEN));
  });
});
