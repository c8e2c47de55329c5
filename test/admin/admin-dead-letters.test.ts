import { BatchLedger, DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { deadLetter, startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('dashboard dead letters', () => {
  it('lists, shows and replays one through the producer library (batch counters stay exact)', async () => {
    const admin = await startAdmin(ctx);
    const { redis, prefix } = admin;
    const ledger = new BatchLedger(redis, prefix);
    await ledger.create('b_dl', 2);
    await ledger.markEnqueued('b_dl', 2);
    await ledger.settle('b_dl', { index: 0, jobId: 'dr_b_dl~0', state: 'completed', images: [] });
    await ledger.settle('b_dl', { index: 1, jobId: 'dr_b_dl~1', state: 'dead', code: '202' });
    expect((await ledger.get('b_dl'))?.state).toBe('completed');
    const store = new DeadLetterStore(redis, prefix);
    const id = 'dr_b_dl~1';
    await store.insert(
      deadLetter(id, '202', {
        taskId: '987654',
        meta: { enqueuedAt: Date.now(), batchId: 'b_dl', batchIndex: 1 },
      }),
    );
    const session = await admin.login();

    const list = (await session.get('/admin/dead-letters?code=202')).body;
    expect(list).toContain(`href="/admin/dead-letters/${encodeURIComponent(id)}"`);
    expect(list).toContain('1 entry');
    const detail = await session.get(`/admin/dead-letters/${encodeURIComponent(id)}`);
    expect(detail.statusCode).toBe(200);
    for (const text of [
      '<code id="dead-code">202</code>',
      'failed with 202',
      'provider said 202',
      '987654',
      '油画',
    ]) {
      expect(detail.body).toContain(text);
    }
    expect(detail.body).toContain(`action="/admin/dead-letters/${encodeURIComponent(id)}/replay"`);

    const replay = await session.post(`/admin/dead-letters/${encodeURIComponent(id)}/replay`);
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toBe(
      `/admin/jobs/${encodeURIComponent(id)}?${new URLSearchParams({ notice: 'replayed', id })}`,
    );
    expect(await store.has(id)).toBe(false);
    expect(await ledger.get('b_dl')).toMatchObject({ dead: 0, pending: 1, state: 'open' });
    const job = await admin.drawingQueue.getJob(id);
    expect(job?.data.meta.replays).toBe(1);
    expect(job?.data.state?.taskId).toBe('987654');
    const jobPage = (await session.get(String(replay.headers.location))).body;
    expect(jobPage).toContain('data-job-state="polling"'); // it has a taskId: it resumes polling
    expect(jobPage).toContain('<meta http-equiv="refresh" content="2">');
    expect((await session.get('/admin/dead-letters/dr_missing')).statusCode).toBe(404);
  });

  it('replays every dead letter with one code, leaving the others', async () => {
    const admin = await startAdmin(ctx);
    const store = new DeadLetterStore(admin.redis, admin.prefix);
    await store.insert(deadLetter('dr_x1', '202'));
    await store.insert(deadLetter('dr_x2', '202'));
    await store.insert(deadLetter('dr_x3', '400'));
    const session = await admin.login();
    const res = await session.post('/admin/dead-letters/replay', { code: '202' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin?notice=replayed-code&n=2&code=202');
    expect(await store.countByCode()).toEqual({ '400': 1 });
    expect(await admin.drawingQueue.getJob('dr_x1')).toBeDefined();
    expect(await admin.drawingQueue.getJob('dr_x2')).toBeDefined();
    expect(await admin.drawingQueue.getJob('dr_x3')).toBeUndefined();
    expect((await session.get(String(res.headers.location))).body).toContain(
      'Replayed 2 dead letter(s) with code 202.',
    );
    const noCode = await session.post('/admin/dead-letters/replay', {});
    expect(noCode.statusCode).toBe(400);
    expect(await store.count()).toBe(1);
  });

  it('deletes one', async () => {
    const admin = await startAdmin(ctx);
    const store = new DeadLetterStore(admin.redis, admin.prefix);
    await store.insert(deadLetter('dr_del', '400'));
    const session = await admin.login();
    const res = await session.post('/admin/dead-letters/dr_del/delete', { confirm: 'yes' });
    expect(res.statusCode).toBe(303);
    expect(await store.has('dr_del')).toBe(false);
    expect(await admin.drawingQueue.getJob('dr_del')).toBeUndefined();
    const list = (await session.get(String(res.headers.location))).body;
    expect(list).toContain('Dead letter dr_del deleted.');
    expect(list).toContain('id="no-dead-letters"');
  });
});
