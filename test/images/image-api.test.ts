import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageStore } from '@atelier/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../producer/api-harness.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext, uniquePrefix } from '../support/redis-context.ts';
import { S3TestServer } from '../support/s3-server.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await S3TestServer.start();
});
afterAll(() => s3.close());

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('png body')]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.from('jpeg body')]);
const WEBP = Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 body', 'latin1');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function put(store: ImageStore | undefined, key: string, body: Buffer, type: string) {
  await store?.put(key, body, { contentType: type, sha256: sha256(body) });
}

/** An API over an fs image store in a folder of its own, inside a parent holding a "secret". */
async function fsApi() {
  const parent = await mkdtemp(join(tmpdir(), 'atelier-api-images-'));
  ctx.onCleanup(() => rm(parent, { recursive: true, force: true }));
  const dir = join(parent, 'images');
  await writeFile(join(parent, 'secret.png'), PNG);
  const api = await startApi(ctx, { env: { ATELIER_IMAGE_STORE: `fs:${dir}` } });
  return { api, dir };
}

describe('GET /v1/images/{key}', () => {
  it('streams an archived image with its type, length and an immutable private cache policy', async () => {
    const { api } = await fsApi();
    await put(api.images, 'dr_api-1/0.png', PNG, 'image/png');
    await put(api.images, 'dr_api-1/1.jpg', JPEG, 'image/jpeg');
    await put(api.images, 'dr_api-1/2.webp', WEBP, 'image/webp');

    for (const [key, body, type] of [
      ['dr_api-1/0.png', PNG, 'image/png'],
      ['dr_api-1/1.jpg', JPEG, 'image/jpeg'],
      ['dr_api-1/2.webp', WEBP, 'image/webp'],
    ] as const) {
      const res = await api.app.inject({
        method: 'GET',
        url: `/v1/images/${key}`,
        headers: { authorization: 'Bearer test-key-1' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['content-length']).toBe(String(body.length));
      expect(res.headers['cache-control']).toBe('private, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.rawPayload.equals(body)).toBe(true);
    }
    const head = await api.app.inject({
      method: 'HEAD',
      url: '/v1/images/dr_api-1/0.png',
      headers: { authorization: 'Bearer test-key-1' },
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('image/png');
    expect(head.rawPayload.length).toBe(0);
  });

  it('needs the bearer key like every /v1 route', async () => {
    const { api } = await fsApi();
    await put(api.images, 'dr_api-2/0.png', PNG, 'image/png');
    const res = await api.call({ method: 'GET', url: '/v1/images/dr_api-2/0.png', auth: false });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHORIZED');
  });

  it.each([
    '/v1/images/dr_unknown/0.png',
    '/v1/images/dr_api-3/1.png',
    '/v1/images/dr_api-3/0.jpg',
    '/v1/images/dr_api-3',
    '/v1/images/',
    '/v1/images/../secret.png',
    '/v1/images/..%2Fsecret.png',
    '/v1/images/%2E%2E/secret.png',
    '/v1/images/dr_api-3/..%2F..%2Fsecret.png',
    '/v1/images/dr_api-3%2F..%2F..%2Fsecret.png',
    '/v1/images/dr_api-3/0.png%00.jpg',
    '/v1/images//etc/passwd',
    '/v1/images/dr_api-3/0.png/',
  ])('answers 404 NOT_FOUND for %s, never a file outside the archive', async (url) => {
    const { api } = await fsApi();
    await put(api.images, 'dr_api-3/0.png', PNG, 'image/png');
    const res = await api.call({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
    expect(res.body).not.toContain('png body');
  });

  it('answers 404 naming ATELIER_IMAGE_STORE when images are not archived', async () => {
    const api = await startApi(ctx);
    const res = await api.call({ method: 'GET', url: '/v1/images/dr_x/0.png' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('ATELIER_IMAGE_STORE=none'),
    });
  });

  it('serves from an S3 store', async () => {
    const prefix = `api/${uniquePrefix('s3')}`;
    const api = await startApi(ctx, { env: s3.env(prefix) });
    await put(api.images, 'dr_api-s3/0.png', PNG, 'image/png');
    const res = await api.app.inject({
      method: 'GET',
      url: '/v1/images/dr_api-s3/0.png',
      headers: { authorization: 'Bearer test-key-1' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-length']).toBe(String(PNG.length));
    expect(res.rawPayload.equals(PNG)).toBe(true);
    expect((await api.call({ method: 'GET', url: '/v1/images/dr_api-s3/1.png' })).statusCode).toBe(
      404,
    );
  });

  it('serves what a worker archived at result.archived[].url, byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atelier-api-archive-'));
    ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
    const env = { ATELIER_IMAGE_STORE: `fs:${dir}`, ATELIER_IMAGE_ALLOW_PRIVATE: 'true' };
    const stack = await DrawingStack.start(ctx, { env });
    await stack.startWorker();
    const api = await startApi(ctx, { prefix: stack.prefix, env });
    const created = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { text: 'served by the api', style: '油画', resolution: '1024*1024', num: 2 },
    });
    const { id } = created.json();
    const job = await stack.completed(id);
    const status = (await api.call({ method: 'GET', url: `/v1/jobs/${id}` })).json();
    expect(status.result.archived).toEqual(job.returnvalue.archived);
    for (const [n, image] of (job.returnvalue.archived ?? []).entries()) {
      const res = await api.app.inject({
        method: 'GET',
        url: image.url,
        headers: { authorization: 'Bearer test-key-1' },
      });
      expect(res.statusCode).toBe(200);
      const original = Buffer.from(
        await (await fetch(job.returnvalue.images[n] as string)).arrayBuffer(),
      );
      expect(res.rawPayload.equals(original)).toBe(true);
      expect(sha256(res.rawPayload)).toBe(image.sha256);
    }
  });
});
