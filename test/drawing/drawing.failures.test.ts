import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('drawing failures: terminal codes go to the dead-letter queue once', () => {
  it.each([
    [201, 'taskId does not exist'],
    [202, 'text blocked by moderation'],
    [400, 'bad parameter'],
  ])(
    'submit answered %i → dead letter with the code and both messages, no retry',
    async (code, meaning) => {
      const stack = await DrawingStack.start(ctx);
      const text = `terminal ${code}`;
      stack.sim.script(text, { submit: [{ code, msg: `provider says ${code}` }] });
      await stack.startWorker();
      const id = await stack.enqueue({ text });
      const entry = await stack.dead(id);
      expect(entry).toMatchObject({
        id,
        queue: 'drawing',
        code: String(code),
        providerMessage: `provider says ${code}`,
        attempts: 1,
        request: { text, style: '油画', resolution: '1024*1024', num: 1 },
      });
      expect(entry.message).toContain(meaning);
      expect(entry.history).toHaveLength(1);
      expect(entry.taskId).toBeUndefined();
      expect(stack.sim.submitsFor(text)).toBe(1);
      const job = await stack.job(id);
      expect(job?.failedReason).toBe(`[${code}] ${entry.message}`);
    },
  );

  it('a blocked word is refused by moderation (202) and dead-lettered', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { faults: { blockedWords: ['forbidden'] } },
    });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'a forbidden picture' });
    expect((await stack.dead(id)).code).toBe('202');
  });

  it('a status other than 0/1 ends the task: dead letter keeps the taskId', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('bad status', { query: [{ status: 0 }, { status: 9 }] });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'bad status' });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('STATUS_9');
    expect(entry.taskId).toMatch(/^\d+$/);
    expect(stack.sim.submitsFor('bad status')).toBe(1);
  });

  it('201 on a poll (the task vanished) is terminal and keeps the taskId', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('vanished', { query: [{ code: 201 }] });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'vanished' });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('201');
    expect(entry.taskId).toMatch(/^\d+$/);
  });

  it('999 is retried a few times, then dead-lettered with the whole attempt history', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('always 999', {
      submit: [{ code: 999 }, { code: 999 }, { code: 999 }, { code: 999 }],
    });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'always 999' });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('999');
    expect(entry.attempts).toBe(3);
    expect(entry.history.map((h) => [h.attempt, h.code])).toEqual([
      [1, '999'],
      [2, '999'],
      [3, '999'],
    ]);
    expect(stack.sim.submitsFor('always 999')).toBe(3);
    expect(stack.sim.counters().tasksCreated).toBe(0);
  });

  it.each([
    ['999 twice', [{ code: 999 }, { code: 999 }]],
    ['an unknown code (777)', [{ code: 777 }]],
  ])('%s on submit is retried, then the job completes with one task', async (_name, answers) => {
    const stack = await DrawingStack.start(ctx);
    const text = `retry ${_name}`;
    stack.sim.script(text, { submit: answers });
    await stack.startWorker();
    const id = await stack.enqueue({ text });
    const job = await stack.completed(id);
    expect(stack.sim.counters().tasksCreated).toBe(1);
    expect(job.data.history?.length).toBe(answers.length);
  });

  it.each([
    ['malformed JSON', { malformed: true as const }],
    ['a dropped connection', { drop: true as const }],
    ['an answer slower than the request timeout', { delayMs: 3000 }],
  ])(
    '%s on a poll is retried and the task still completes with one submit',
    async (_name, answer) => {
      const stack = await DrawingStack.start(ctx, { env: { DRAWING_REQUEST_TIMEOUT_MS: '1000' } });
      const text = `poll ${_name}`;
      stack.sim.script(text, { query: [answer] });
      await stack.startWorker();
      const id = await stack.enqueue({ text });
      const job = await stack.completed(id);
      expect(stack.sim.submitsFor(text)).toBe(1);
      expect(job.data.history?.[0]?.code).toMatch(/MALFORMED_RESPONSE|NETWORK|TIMEOUT/);
    },
  );

  it.each([
    ['HTTP 503 from the gateway', { http: 503, body: '<html>busy</html>' }],
    ['a dropped connection (before the provider saw it)', { drop: true as const }],
    ['a lost answer (after the provider processed it)', { drop: 'after' as const }],
    ['malformed JSON', { malformed: true as const }],
  ])(
    '%s on submit may have created a task: by default dead-lettered SUBMIT_UNCONFIRMED after that one submit',
    async (_name, answer) => {
      const stack = await DrawingStack.start(ctx);
      const text = `unconfirmed ${_name}`;
      stack.sim.script(text, { submit: [answer] });
      await stack.startWorker();
      const id = await stack.enqueue({ text });
      const entry = await stack.dead(id);
      expect(entry.code).toBe('SUBMIT_UNCONFIRMED');
      expect(entry.message).toContain('not submitting again');
      expect(entry.history.map((h) => h.code)).toEqual(['SUBMIT_UNCONFIRMED']);
      expect(stack.sim.submitsFor(text)).toBe(1);
      const job = await stack.job(id);
      expect(job?.data.state?.unconfirmedSubmits).toBe(1);
      expect(job?.data.state?.submitIntentAt).toBeUndefined();
    },
  );

  it('a submit refused at connect (the provider never saw it) is retried: no task was created', async () => {
    const stack = await DrawingStack.start(ctx);
    const port = stack.sim.port;
    await stack.sim.close();
    const closed = await DrawingStack.start(ctx, {
      env: { DRAWING_BASE_URL: `http://127.0.0.1:${port}` },
    });
    await closed.startWorker();
    const id = await closed.enqueue({ text: 'provider down' });
    const failed = await waitFor(
      async () => {
        const job = await closed.job(id);
        return job?.data.history?.length ? job : undefined;
      },
      { what: 'the refused submit in the history' },
    );
    expect(failed.data.history?.[0]?.code).toBe('NETWORK');
    expect(failed.data.state?.unconfirmedSubmits).toBeUndefined();
    expect(failed.data.state?.submitIntentAt).toBeUndefined();
  });

  it('DRAWING_UNCONFIRMED_SUBMIT_LIMIT=1: one submit again after a lost answer, then SUBMIT_UNCONFIRMED', async () => {
    const stack = await DrawingStack.start(ctx, { env: { DRAWING_UNCONFIRMED_SUBMIT_LIMIT: '1' } });
    stack.sim.script('lost once', { submit: [{ malformed: true }] });
    stack.sim.script('lost always', {
      submit: [{ drop: 'after' }, { drop: 'after' }, { drop: 'after' }],
    });
    await stack.startWorker();
    const once = await stack.enqueue({ text: 'lost once' });
    const always = await stack.enqueue({ text: 'lost always' });

    const done = await stack.completed(once);
    expect(done.data.state?.unconfirmedSubmits).toBe(1);
    expect(stack.sim.submitsFor('lost once')).toBe(2);
    const entry = await stack.dead(always);
    expect(entry.code).toBe('SUBMIT_UNCONFIRMED');
    // The cap bounds what a lost answer can cost: one submit again, not one per attempt.
    expect(stack.sim.submitsFor('lost always')).toBe(2);
  });

  it('gives up polling at the deadline with POLL_TIMEOUT and keeps the taskId', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 60_000 } },
      env: { DRAWING_POLL_DEADLINE_MS: '800' },
    });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'never finishes' });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('POLL_TIMEOUT');
    expect(entry.taskId).toMatch(/^\d+$/);
    expect(stack.sim.submitsFor('never finishes')).toBe(1);
  });

  it('a malformed payload is dead-lettered INVALID_PAYLOAD and the worker keeps working', async () => {
    const stack = await DrawingStack.start(ctx);
    await stack.startWorker();
    const bad = await stack.enqueue({ style: 'not a style', num: 99 });
    const good = await stack.enqueue({ text: 'after the bad one' });
    const entry = await stack.dead(bad);
    expect(entry.code).toBe('INVALID_PAYLOAD');
    expect(entry.message).toContain('task.style');
    await stack.completed(good);
    expect(stack.sim.counters().submits).toBe(1);
  });
});
