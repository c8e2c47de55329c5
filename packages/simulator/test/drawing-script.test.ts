import { afterEach, describe, expect, it } from 'vitest';
import { DrawingSimulator, type DrawingSimulatorOptions } from '../src/index.ts';
import { json, postForm, TASK } from './drawing-http.ts';

let sim: DrawingSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: DrawingSimulatorOptions = {}) {
  sim = await DrawingSimulator.start({ duration: { kind: 'fixed', ms: 3_600_000 }, ...options });
  return sim;
}

describe('drawing simulator scripted answers', () => {
  it('answers submits in script order, then behaves normally', async () => {
    const s = await start();
    s.script(TASK.text, {
      submit: [
        { code: 500 },
        { code: 999, msg: 'upstream exploded' },
        { http: 503, body: '<html>busy</html>', headers: { 'content-type': 'text/html' } },
      ],
    });
    expect(json(await postForm(s.submitUrl, TASK))).toMatchObject({
      code: 500,
      msg: '系统维护，请稍候再试',
    });
    expect(json(await postForm(s.submitUrl, TASK))).toMatchObject({
      code: 999,
      msg: 'upstream exploded',
    });
    const raw = await postForm(s.submitUrl, TASK);
    expect(raw).toMatchObject({ status: 503, text: '<html>busy</html>' });
    expect(raw.headers.get('content-type')).toBe('text/html');
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(200);
    expect(s.submitsFor(TASK.text)).toBe(4);
    expect(s.counters()).toMatchObject({ tasksCreated: 1, faults: { scripted: 3 } });
  });

  it('answers queries pending ×N then done, mapping taskId to its text', async () => {
    const s = await start();
    s.script(TASK.text, { query: [{ status: 0 }, { status: 0 }, { status: 1 }] });
    const other = json(await postForm(s.submitUrl, { ...TASK, text: 'other' })).data.taskId;
    const taskId = json(await postForm(s.submitUrl, TASK)).data.taskId;
    expect(json(await postForm(s.queryUrl, { taskId: other })).data.status).toBe(0);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(json(await postForm(s.queryUrl, { taskId })).data);
    }
    expect(statuses.map((d) => d.status)).toEqual([0, 0, 1]);
    expect(statuses[2].imgUrls).toHaveLength(1);
    // Script used up: the real task (an hour long) is still pending.
    expect(json(await postForm(s.queryUrl, { taskId })).data.status).toBe(0);
    expect(s.queriesFor(taskId)).toBe(4);
    expect(s.scriptRemaining(TASK.text)).toEqual({ submit: 0, query: 0 });
  });

  it('drops before or after processing, and serves malformed answers', async () => {
    const s = await start();
    s.script(TASK.text, { submit: [{ drop: true }, { drop: 'after' }, { malformed: true }] });
    await expect(postForm(s.submitUrl, TASK)).rejects.toThrow();
    expect(s.counters().tasksCreated).toBe(0);
    await expect(postForm(s.submitUrl, TASK)).rejects.toThrow();
    expect(s.counters().tasksCreated).toBe(1); // paid for, answer lost
    const malformed = await postForm(s.submitUrl, TASK);
    expect(() => JSON.parse(malformed.text)).toThrow(SyntaxError);
    expect(s.counters().tasksCreated).toBe(2);
  });

  it('delays an answer, alone or with another', async () => {
    const s = await start();
    s.script(TASK.text, { submit: [{ delayMs: 150 }, { code: 500, delayMs: 150 }] });
    let started = performance.now();
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    started = performance.now();
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(500);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('takes precedence over random faults, and resetFaults drops unconsumed answers', async () => {
    const s = await start({ faults: { submitCodeRates: { 999: 1 } } });
    s.script(TASK.text, { submit: [{ code: 200 }, { code: 501 }, { code: 500 }] });
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(200);
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(501);
    expect(json(await postForm(s.submitUrl, TASK, {})).code).toBe(500);
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(999);
    s.script(TASK.text, { submit: [{ code: 202 }] });
    s.resetFaults();
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(200);
  });
});
