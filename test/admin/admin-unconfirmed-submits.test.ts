import { DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { deadLetter, startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const TASK = { text: 'a cat', style: '油画', resolution: '1024*1024', num: 1 };

describe('the dashboard on unconfirmed submits', () => {
  it("shows a drawing's submit under way and its unconfirmed submits on the job page", async () => {
    const admin = await startAdmin(ctx);
    const intentAt = Date.parse('2024-05-01T12:00:05Z');
    await admin.drawingQueue.add(
      'drawing',
      {
        kind: 'drawing',
        task: TASK,
        meta: { enqueuedAt: Date.now() },
        state: { polls: 0, submitIntentAt: intentAt, unconfirmedSubmits: 2 },
      },
      { jobId: 'dr_unsure' },
    );
    await admin.drawingQueue.add(
      'drawing',
      {
        kind: 'drawing',
        task: TASK,
        meta: { enqueuedAt: Date.now() },
        state: { polls: 3, taskId: '4242' },
      },
      { jobId: 'dr_sure' },
    );
    const session = await admin.login();

    const unsure = (await session.get('/admin/jobs/dr_unsure')).body;
    expect(unsure).toContain('under way</span> since 2024-05-01 12:00:05Z');
    expect(unsure).toMatch(/id="unconfirmed-submits"><span class="badge bad">2<\/span>/);
    const sure = (await session.get('/admin/jobs/dr_sure')).body;
    expect(sure).toContain('<dd id="job-task"><code>4242</code></dd>');
    expect(sure).not.toContain('unconfirmed-submits');
  });

  it('warns about SUBMIT_UNCONFIRMED dead letters on the overview and on the letter', async () => {
    const admin = await startAdmin(ctx);
    const store = new DeadLetterStore(admin.redis, admin.prefix);
    await store.insert(deadLetter('dr_u1', 'SUBMIT_UNCONFIRMED'));
    await store.insert(deadLetter('dr_u2', 'SUBMIT_UNCONFIRMED'));
    await store.insert(deadLetter('dr_p1', 'POLL_TIMEOUT', { taskId: '77' }));
    const session = await admin.login();

    const overview = (await session.get('/admin')).body;
    expect(overview).toContain('<span class="badge bad">2 SUBMIT_UNCONFIRMED</span>');
    const letter = (await session.get('/admin/dead-letters/dr_u1')).body;
    expect(letter).toContain('id="unconfirmed-submit"');
    expect(letter).toContain('a replay submits once more');
    const polled = (await session.get('/admin/dead-letters/dr_p1')).body;
    expect(polled).not.toContain('id="unconfirmed-submit"');
  });
});
