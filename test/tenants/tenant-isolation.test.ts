import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiHarness, CME, DRAWING, startApi } from '../producer/api-harness.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ACME = 'key-of-acme-0001';
const BETA = 'key-of-beta-0001';
const BARE = 'bare-key-0000001';
const OPS = 'key-of-ops-00001';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('png body')]);

/** Two tenants, a bare key (tenant default) and an admin, over an fs image store. */
async function tenantsApi(): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-tenant-images-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return startApi(ctx, {
    env: {
      ATELIER_API_KEYS: `acme:${ACME},beta:${BETA},${BARE}`,
      ATELIER_ADMIN_KEYS: `ops:${OPS}`,
      ATELIER_IMAGE_STORE: `fs:${dir}`,
    },
  });
}

/** A dead letter of `tenant`'s job `id` (its job gone: a replay adds it again). */
function letter(id: string, tenant: string, fields: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    queue: 'drawing',
    kind: 'drawing',
    code: '202',
    message: 'blocked',
    attempts: 1,
    history: [],
    request: { ...DRAWING, num: 1 },
    meta: { enqueuedAt: 1, tenant },
    failedAt: Date.now(),
    ...fields,
  };
}

describe('tenants through /v1', () => {
  it('the same idempotency key is per tenant: two tenants get two jobs; default keeps its id', async () => {
    const api = await tenantsApi();
    const send = async (key: string, url: string, payload: object) => {
      const res = await api.call({ method: 'POST', url, payload, auth: key });
      expect(res.statusCode).toBe(202);
      return { id: res.json().id as string, replayed: res.headers['idempotent-replayed'] };
    };
    for (const [url, body] of [
      ['/v1/drawings', DRAWING],
      ['/v1/cme/operations', CME],
    ] as const) {
      const payload = { ...body, idempotencyKey: 'order-17' };
      const acme = await send(ACME, url, payload);
      const beta = await send(BETA, url, payload);
      const bare = await send(BARE, url, payload);
      expect(new Set([acme.id, beta.id, bare.id]).size).toBe(3);
      expect(acme.id).toMatch(/_order-17@acme$/);
      expect(beta.id).toMatch(/_order-17@beta$/);
      // A bare key is tenant default: the id a deployment from before tenants gave.
      expect(bare.id).toMatch(/^(dr|cm)_order-17$/);
      // Each tenant's key finds its own job again.
      expect(await send(ACME, url, payload)).toEqual({ id: acme.id, replayed: 'true' });
      expect(await send(BETA, url, payload)).toEqual({ id: beta.id, replayed: 'true' });
    }
    const data = (await api.drawingQueue.getJob('dr_order-17@acme'))?.data;
    expect(data?.meta.tenant).toBe('acme');
  });

  it('jobs: a tenant reads its own; another tenant gets the 404 an unknown id gets; an admin reads all', async () => {
    const api = await tenantsApi();
    const created = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: DRAWING,
      auth: ACME,
    });
    const { id } = created.json();
    const read = (key: string, jobId = id) =>
      api.call({ method: 'GET', url: `/v1/jobs/${jobId}`, auth: key });

    expect((await read(ACME)).statusCode).toBe(200);
    expect((await read(OPS)).json()).toMatchObject({ id, state: 'queued' });
    for (const key of [BETA, BARE]) {
      const refused = await read(key);
      expect(refused.statusCode).toBe(404);
      expect(refused.json()).toEqual({
        error: { code: 'NOT_FOUND', message: `job ${id} not found`, details: { what: 'job', id } },
      });
    }
    // Cancelling another tenant's job is the same 404, and leaves it queued.
    const cancel = await api.call({ method: 'POST', url: `/v1/jobs/${id}/cancel`, auth: BETA });
    expect(cancel.statusCode).toBe(404);
    expect(cancel.json().error).toMatchObject({ code: 'NOT_FOUND', details: { what: 'job', id } });
    expect((await read(ACME)).json().state).toBe('queued');
    // Exactly what a job that does not exist answers.
    const unknown = 'dr_no-such-job@acme';
    expect((await read(ACME, unknown)).json()).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: `job ${unknown} not found`,
        details: { what: 'job', id: unknown },
      },
    });
  });

  it('batches and their results: the owner and admins only', async () => {
    const api = await tenantsApi();
    const created = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING, DRAWING], idempotencyKey: 'nightly' },
      auth: BETA,
    });
    expect(created.statusCode).toBe(202);
    const { id } = created.json();
    expect(id).toBe('b_nightly@beta');
    // The same key from another tenant is another batch.
    const acmeBatch = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING], idempotencyKey: 'nightly' },
      auth: ACME,
    });
    expect(acmeBatch.json()).toEqual({ id: 'b_nightly@acme', total: 1 });

    for (const url of [`/v1/batches/${id}`, `/v1/batches/${id}/results`]) {
      expect((await api.call({ method: 'GET', url, auth: BETA })).statusCode, url).toBe(200);
      expect((await api.call({ method: 'GET', url, auth: OPS })).statusCode, url).toBe(200);
      for (const key of [ACME, BARE]) {
        const refused = await api.call({ method: 'GET', url, auth: key });
        expect(refused.statusCode, url).toBe(404);
        expect(refused.json().error).toEqual({
          code: 'NOT_FOUND',
          message: `batch ${id} not found`,
          details: { what: 'batch', id },
        });
      }
    }
    // Steering another tenant's batch: the same 404, and the batch is untouched.
    for (const action of ['pause', 'resume', 'cancel']) {
      const url = `/v1/batches/${id}/${action}`;
      const refused = await api.call({ method: 'POST', url, auth: ACME });
      expect(refused.statusCode, url).toBe(404);
      expect(refused.json().error).toMatchObject({ code: 'NOT_FOUND', details: { id } });
    }
    const untouched = await api.call({ method: 'GET', url: `/v1/batches/${id}`, auth: BETA });
    expect(untouched.json().state).toBe('open');
    // Its owner (and an admin) may.
    const paused = await api.call({ method: 'POST', url: `/v1/batches/${id}/pause`, auth: OPS });
    expect(paused.json()).toMatchObject({ id, state: 'paused', tenant: 'beta' });
    const resumed = await api.call({ method: 'POST', url: `/v1/batches/${id}/resume`, auth: BETA });
    expect(resumed.json()).toMatchObject({ id, state: 'open' });
    const batch = (await api.call({ method: 'GET', url: `/v1/batches/${id}`, auth: BETA })).json();
    expect(batch).toMatchObject({ id, total: 2, tenant: 'beta' });
    const lines = (
      await api.call({ method: 'GET', url: `/v1/batches/${id}/results`, auth: BETA })
    ).body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.jobId)).toEqual(['dr_b_nightly@beta~0', 'dr_b_nightly@beta~1']);
    const item = await api.drawingQueue.getJob('dr_b_nightly@beta~1');
    expect(item?.data.meta).toMatchObject({ tenant: 'beta', batchId: id, batchIndex: 1 });
  });

  it('dead letters: list, read, replay, delete and bulk actions reach only the caller tenant', async () => {
    const api = await tenantsApi();
    const store = new DeadLetterStore(ctx.connection(), api.prefix);
    const acmeIds = ['dr_a1@acme', 'dr_a2@acme', 'dr_a3@acme'];
    const betaIds = ['dr_b1@beta', 'dr_b2@beta'];
    for (const id of acmeIds) await store.insert(letter(id, 'acme'));
    for (const id of betaIds) await store.insert(letter(id, 'beta'));
    await store.insert(letter('dr_d1', 'default', { meta: { enqueuedAt: 1 } }));
    const list = async (key: string, query = '') => {
      const res = await api.call({ method: 'GET', url: `/v1/dead-letters${query}`, auth: key });
      return { status: res.statusCode, body: res.json() };
    };
    const ids = (page: { items: DeadLetter[] }) => page.items.map((e) => e.id).sort();

    expect(ids((await list(ACME)).body)).toEqual(acmeIds);
    expect((await list(ACME)).body.total).toBe(3);
    expect(ids((await list(BETA)).body)).toEqual(betaIds);
    expect(ids((await list(BARE)).body)).toEqual(['dr_d1']);
    expect((await list(OPS)).body.total).toBe(6);
    expect(ids((await list(OPS, '?tenant=beta')).body)).toEqual(betaIds);
    expect(ids((await list(ACME, '?tenant=acme&code=202')).body)).toEqual(acmeIds);
    const forbidden = await list(ACME, '?tenant=beta');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'FORBIDDEN', details: { field: 'tenant' } });

    // Another tenant's entry: 404 on read, replay and delete; nothing changes.
    for (const [method, url] of [
      ['GET', '/v1/dead-letters/dr_a1@acme'],
      ['POST', '/v1/dead-letters/dr_a1@acme/replay'],
      ['DELETE', '/v1/dead-letters/dr_a1@acme'],
    ] as const) {
      const refused = await api.call({ method, url, auth: BETA });
      expect(refused.statusCode, `${method} ${url}`).toBe(404);
      expect(refused.json().error).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(await store.has('dr_a1@acme')).toBe(true);
    expect(await api.drawingQueue.getJob('dr_a1@acme')).toBeUndefined();

    // Bulk actions with an empty filter: every entry of the caller's tenant, none of others'.
    const replayed = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/replay',
      payload: { all: true },
      auth: BETA,
    });
    expect(replayed.json()).toEqual({ replayed: 2 });
    for (const id of betaIds) expect(await api.drawingQueue.getJob(id)).toBeDefined();
    const purged = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/purge',
      payload: { code: '202' },
      auth: BARE,
    });
    expect(purged.json()).toEqual({ purged: 1 });
    expect(ids((await list(OPS)).body)).toEqual(acmeIds);
    const otherTenant = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/purge',
      payload: { tenant: 'acme' },
      auth: BETA,
    });
    expect(otherTenant.statusCode).toBe(403);

    // Their owner reads, replays and deletes them; so does an admin.
    expect(
      (await api.call({ method: 'GET', url: '/v1/dead-letters/dr_a1@acme', auth: ACME })).json(),
    ).toMatchObject({ id: 'dr_a1@acme', meta: { tenant: 'acme' } });
    const replay = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/dr_a1@acme/replay',
      auth: ACME,
    });
    expect(replay.statusCode).toBe(202);
    const deleted = await api.call({
      method: 'DELETE',
      url: '/v1/dead-letters/dr_a2@acme',
      auth: OPS,
    });
    expect(deleted.statusCode).toBe(204);
    expect(ids((await list(ACME)).body)).toEqual(['dr_a3@acme']);
  });

  it("images: a job's archived images are its tenant's", async () => {
    const api = await tenantsApi();
    const sha256 = createHash('sha256').update(PNG).digest('hex');
    for (const key of ['dr_x1@acme/0.png', 'dr_x2/0.png']) {
      await api.images?.put(key, PNG, { contentType: 'image/png', sha256 });
    }
    const get = (key: string, auth: string) =>
      api.call({ method: 'GET', url: `/v1/images/${key}`, auth });
    expect((await get('dr_x1@acme/0.png', ACME)).statusCode).toBe(200);
    expect((await get('dr_x1@acme/0.png', OPS)).statusCode).toBe(200);
    expect((await get('dr_x2/0.png', BARE)).statusCode).toBe(200);
    for (const [key, auth] of [
      ['dr_x1@acme/0.png', BETA],
      ['dr_x1@acme/0.png', BARE],
      ['dr_x2/0.png', ACME],
    ] as const) {
      const refused = await get(key, auth);
      expect(refused.statusCode, `${key} as another tenant`).toBe(404);
      expect(refused.json().error).toEqual({
        code: 'NOT_FOUND',
        message: `image ${key} not found`,
        details: { what: 'image', id: key },
      });
    }
  });

  it('usage: a tenant reads its own; naming another is refused; an admin may name any', async () => {
    const api = await tenantsApi();
    await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, num: 3 },
      auth: ACME,
    });
    const usage = (key: string, query = '') =>
      api.call({ method: 'GET', url: `/v1/usage${query}`, auth: key });
    const own = (await usage(ACME)).json();
    expect(own).toMatchObject({ tenant: 'acme', quota: null, total: { images: 3, jobs: 1 } });
    expect(own.days).toHaveLength(30);
    expect((await usage(BETA)).json()).toMatchObject({ tenant: 'beta', total: { images: 0 } });
    const refused = await usage(BETA, '?tenant=acme');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
    expect((await usage(OPS, '?tenant=acme')).json()).toMatchObject({
      tenant: 'acme',
      total: { images: 3 },
    });
  });

  it("logs name the tenant, never its key; the request log of another tenant's 404 too", async () => {
    const api = await tenantsApi();
    const { id } = (
      await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING, auth: ACME })
    ).json();
    await api.call({ method: 'GET', url: `/v1/jobs/${id}`, auth: BETA });
    const lines = api.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.tenant === 'beta' && l.status === 404)).toBe(true);
    for (const key of [ACME, BETA, BARE, OPS]) expect(api.logs.text()).not.toContain(key);
  });
});
