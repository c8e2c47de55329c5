import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrawingSimulator } from '../src/index.ts';
import { json, post, postForm, TASK } from './drawing-http.ts';

let sim: DrawingSimulator;
beforeAll(async () => {
  sim = await DrawingSimulator.start({ submitPath: '/v1/draw', queryPath: '/v1/draw/result' });
});
afterAll(() => sim.close());

describe('drawing simulator validation', () => {
  it('serves the configured paths', () => {
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    expect(sim.submitUrl).toBe(`${sim.url}/v1/draw`);
    expect(sim.queryUrl).toBe(`${sim.url}/v1/draw/result`);
  });

  it.each([
    ['missing text', { resolution: '1024*1024', style: '油画' }, 'text'],
    ['blank text', { ...TASK, text: '   ' }, 'text'],
    ['text over 100 characters', { ...TASK, text: '猫'.repeat(101) }, 'text'],
    ['unknown resolution', { ...TASK, resolution: '512*512' }, 'resolution'],
    ['unknown style', { ...TASK, style: '素描' }, 'style'],
    ['num 0', { ...TASK, num: 0 }, 'num'],
    ['num 7', { ...TASK, num: 7 }, 'num'],
    ['num not a number', { ...TASK, num: 'two' }, 'num'],
  ])('answers code 400 for %s', async (_, fields, field) => {
    const answer = await postForm(sim.submitUrl, fields);
    expect(answer.status).toBe(200);
    expect(json(answer)).toMatchObject({ code: 400, msg: `参数错误: ${field}`, data: null });
  });

  it('accepts exactly 100 characters (code points) and num 6, and counts only valid tasks', async () => {
    const before = sim.counters().tasksCreated;
    const emoji = '🐱'.repeat(100);
    expect(json(await postForm(sim.submitUrl, { ...TASK, text: emoji, num: 6 })).code).toBe(200);
    expect(json(await postForm(sim.submitUrl, { ...TASK, num: 9 })).code).toBe(400);
    expect(sim.counters().tasksCreated).toBe(before + 1);
  });

  it('answers 400 when the body is not form-encoded', async () => {
    const answer = await fetch(sim.submitUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(TASK),
    });
    expect(JSON.parse(await answer.text())).toMatchObject({ code: 400 });
  });

  it('answers 400 for a query without taskId and 201 for an unknown one', async () => {
    expect(json(await post(sim.queryUrl, ''))).toMatchObject({
      code: 400,
      msg: '参数错误: taskId',
    });
    const unknown = json(await postForm(sim.queryUrl, { taskId: '1234567890123456789' }));
    expect(unknown).toMatchObject({ code: 201, data: null });
  });

  it('answers the gateway 404 for other paths and methods', async () => {
    const other = await postForm(`${sim.url}/drawing/submit`, TASK);
    expect(other.status).toBe(404);
    expect(json(other)).toMatchObject({ error_code: 'APIGW.0101' });
    expect((await fetch(sim.submitUrl)).status).toBe(404);
  });

  it('refuses options it cannot honour, naming the option', async () => {
    await expect(DrawingSimulator.start({ submitPath: 'submit' })).rejects.toThrow(
      /DrawingSimulatorOptions\.submitPath/,
    );
    await expect(DrawingSimulator.start({ auth: { mode: 'apig', apps: {} } })).rejects.toThrow(
      /DrawingSimulatorOptions\.auth\.apps/,
    );
    await expect(DrawingSimulator.start({ faults: { dropRate: -1 } })).rejects.toThrow(
      /faults\.dropRate/,
    );
  });
});
