import { afterEach, describe, expect, it } from 'vitest';
import { DrawingSimulator } from '../src/index.ts';
import { formBody, json, postForm, TASK } from './drawing-http.ts';

let sim: DrawingSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<DrawingSimulator> {
  sim = await DrawingSimulator.start();
  return sim;
}

describe('drawing simulator: the tasks it created (what it bills)', () => {
  it('lists created tasks by text prefix, in order, with whether their id was answered', async () => {
    const s = await start();
    const first = json(await postForm(s.submitUrl, { ...TASK, text: 'job-1 cat' })).data.taskId;
    s.script('job-1 cat', { submit: [{ drop: 'after' }, { drop: true }] });
    await expect(postForm(s.submitUrl, { ...TASK, text: 'job-1 cat' })).rejects.toThrow();
    await expect(postForm(s.submitUrl, { ...TASK, text: 'job-1 cat' })).rejects.toThrow();
    await postForm(s.submitUrl, { ...TASK, text: 'other dog' });

    const tasks = s.tasks('job-1');
    expect(tasks.map((t) => ({ text: t.text, answered: t.answered }))).toEqual([
      { text: 'job-1 cat', answered: true },
      { text: 'job-1 cat', answered: false },
    ]);
    expect(tasks[0]?.taskId).toBe(first);
    expect(s.tasks()).toHaveLength(3);
    expect(s.counters().submits).toBe(4);
  });

  it('does not count an answer as given when the caller gave up before it was sent', async () => {
    const s = await start();
    s.setFaults({ delayMs: 300 });
    const gaveUp = fetch(s.submitUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ ...TASK, text: 'late one' }),
      signal: AbortSignal.timeout(50),
    });
    await expect(gaveUp).rejects.toThrow();
    // Same delay, sent later: once it is answered, the first answer's turn has passed.
    expect(json(await postForm(s.submitUrl, { ...TASK, text: 'late two' })).code).toBe(200);
    expect(s.tasks('late').map((t) => [t.text, t.answered])).toEqual([
      ['late one', false],
      ['late two', true],
    ]);
  });

  it('serves the list over HTTP at /__admin/tasks', async () => {
    const s = await start();
    await postForm(s.submitUrl, { ...TASK, text: 'http a' });
    await postForm(s.submitUrl, { ...TASK, text: 'elsewhere' });
    const response = await fetch(
      `${s.url}/__admin/tasks?textPrefix=${encodeURIComponent('http ')}`,
    );
    const body = (await response.json()) as { tasks: Array<{ text: string; answered: boolean }> };
    expect(response.status).toBe(200);
    expect(body.tasks).toMatchObject([{ text: 'http a', answered: true }]);
  });
});
