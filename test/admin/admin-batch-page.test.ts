import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchItemJobId } from '@atelier/shared';
import { BatchLedger, FsImageStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const drawing = (text: string) => ({ text, style: '油画', resolution: '1024*1024' });
const BYTES = Buffer.from('89504e470d0a1a0a-not-really-a-png', 'utf8');

async function archive() {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-admin-images-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return new FsImageStore(dir);
}

/** The `<li class="tile">` of item `index` in a batch page. */
function tile(page: string, index: number): string {
  const match = new RegExp(`<li class="tile" data-item="${index}"[\\s\\S]*?</li>`).exec(page);
  if (!match) throw new Error(`no tile for item ${index}`);
  return match[0];
}

describe('the dashboard batch page', () => {
  it('shows each item: archived thumbnails through the dashboard, provider URLs (allowed by its CSP) unless they carry a credential, states and errors', async () => {
    const images = await archive();
    const admin = await startAdmin(ctx, { admin: { login: { failureDelayMs: 0 }, images } });
    const { id } = await admin.producer.createBatch(
      [0, 1, 2, 3, 4].map((i) => drawing(`item ${i}`)),
    );
    const ledger = new BatchLedger(admin.redis, admin.prefix);
    const key = `${batchItemJobId(id, 0)}/0.png`;
    await images.put(key, BYTES, { contentType: 'image/png', sha256: 'x' });
    const archived = [
      { key, url: `/v1/images/${key}`, bytes: BYTES.length, sha256: 'x', contentType: 'image/png' },
    ];
    await ledger.settle(id, {
      index: 0,
      jobId: batchItemJobId(id, 0),
      state: 'completed',
      images: ['https://img.provider.example/a.png'],
      archived,
    });
    await ledger.settle(id, {
      index: 1,
      jobId: batchItemJobId(id, 1),
      state: 'completed',
      images: ['https://img.provider.example/b.png', 'https://img.provider.example/c.png'],
    });
    await ledger.settle(id, {
      index: 2,
      jobId: batchItemJobId(id, 2),
      state: 'completed',
      images: ['https://signed.example/d.png?sign=s3cr3t'],
    });
    await ledger.settle(id, {
      index: 3,
      jobId: batchItemJobId(id, 3),
      state: 'dead',
      code: '202',
      message: 'content blocked',
    });
    const session = await admin.login();

    const res = await session.get(`/admin/batches/${id}`);
    expect(res.statusCode).toBe(200);
    const page = res.body;
    expect(page).toContain('data-batch-state="open"');
    expect(tile(page, 0)).toContain(
      `<img loading="lazy" src="/admin/images/${key}" width="160" height="160" alt="item 0" data-from="archive">`,
    );
    expect(tile(page, 1)).toContain('src="https://img.provider.example/b.png"');
    expect(tile(page, 1)).toContain('2 images');
    expect(tile(page, 2)).not.toContain('<img');
    expect(page).not.toContain('s3cr3t');
    expect(tile(page, 3)).toMatch(/data-state="dead"[\s\S]*<code>202<\/code> content blocked/);
    expect(tile(page, 4)).toContain('data-state="queued"');
    // Images only from here and the provider shown on this page.
    expect(res.headers['content-security-policy']).toContain(
      "img-src 'self' data: https://img.provider.example;",
    );
    expect(page).toContain(`action="/admin/batches/${id}/pause"`);
    expect(page).toContain(`action="/admin/batches/${id}/cancel"`);

    // The archived image: for a session only, cacheable; nothing outside the archive.
    const image = await session.get(`/admin/images/${key}`);
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(Buffer.from(image.body, 'utf8').equals(BYTES)).toBe(true);
    expect((await admin.request('GET', `/admin/images/${key}`)).statusCode).toBe(401);
    expect((await session.get(`/admin/images/${batchItemJobId(id, 9)}/0.png`)).statusCode).toBe(
      404,
    );
    expect((await session.get('/admin/images/../../etc/passwd')).statusCode).toBe(404);
    expect((await session.get(`/admin/batches/b_nope`)).statusCode).toBe(404);
  });

  it('pauses, resumes and cancels through CSRF-protected forms; refused actions answer 409', async () => {
    const admin = await startAdmin(ctx);
    const { id } = await admin.producer.createBatch([drawing('a'), drawing('b')]);
    const session = await admin.login();

    const forged = await session.post(`/admin/batches/${id}/pause`, { _csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect((await admin.producer.getBatch(id)).state).toBe('open');

    const paused = await session.post(`/admin/batches/${id}/pause`);
    expect(paused.statusCode).toBe(303);
    expect(paused.headers.location).toBe(`/admin/batches/${id}?notice=batch-paused&id=${id}`);
    expect((await admin.producer.getBatch(id)).state).toBe('paused');
    const page = (await session.get(String(paused.headers.location))).body;
    expect(page).toContain(`action="/admin/batches/${id}/resume"`);
    expect(page).toContain('paused: nothing new is submitted until it is resumed');

    expect((await session.post(`/admin/batches/${id}/resume`)).statusCode).toBe(303);
    expect((await admin.producer.getBatch(id)).state).toBe('open');
    expect((await session.post(`/admin/batches/${id}/cancel`)).statusCode).toBe(303);
    expect(['cancelling', 'cancelled']).toContain((await admin.producer.getBatch(id)).state);

    const refused = await session.post(`/admin/batches/${id}/pause`);
    expect(refused.statusCode).toBe(409);
  });
});
