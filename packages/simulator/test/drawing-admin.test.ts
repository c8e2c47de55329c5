import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrawingSimulator } from '../src/index.ts';
import { json, postForm, TASK } from './drawing-http.ts';

let sim: DrawingSimulator;
beforeAll(async () => {
  sim = await DrawingSimulator.start();
});
afterAll(() => sim.close());

async function admin(path: string, body?: unknown) {
  const response = await fetch(`${sim.url}/__admin/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: admin answers are inspected field by field
  const answer: any = await response.json();
  return { status: response.status, body: answer };
}

describe('drawing simulator admin endpoints', () => {
  it('sets faults over HTTP, reports counters, and resets both', async () => {
    const set = await admin('faults', { submitCodeRates: { 500: 1 }, blockedWords: ['x'] });
    expect(set).toMatchObject({
      status: 200,
      body: { submitCodeRates: { 500: 1 }, blockedWords: ['x'] },
    });
    expect(json(await postForm(sim.submitUrl, TASK)).code).toBe(500);
    expect((await admin('faults')).body.submitCodeRates).toEqual({ 500: 1 });

    const counters = await admin(`counters?text=${encodeURIComponent(TASK.text)}`);
    expect(counters.body).toMatchObject({ submits: 1, submitsForText: 1, faults: { code500: 1 } });

    expect(await admin('reset', {})).toEqual({ status: 200, body: { ok: true } });
    expect(json(await postForm(sim.submitUrl, TASK)).code).toBe(200);
    expect((await admin('counters')).body).toMatchObject({
      submits: 1,
      tasksCreated: 1,
      faults: { code500: 0 },
    });
    expect(sim.faults().submitCodeRates).toEqual({});
  });

  it('scripts answers over HTTP', async () => {
    const text = 'scripted over http';
    expect((await admin('script', { text, submit: [{ code: 501 }] })).status).toBe(200);
    expect(json(await postForm(sim.submitUrl, { ...TASK, text })).code).toBe(501);
    expect(json(await postForm(sim.submitUrl, { ...TASK, text })).code).toBe(200);
  });

  it('refuses bad admin input with 400 naming the field, changing nothing', async () => {
    const bad = await admin('faults', { dropRate: 1, malformedRate: 7 });
    expect(bad).toEqual({
      status: 400,
      body: { error: 'faults.malformedRate must be a number between 0 and 1' },
    });
    expect(sim.faults().dropRate).toBe(0);
    expect((await admin('script', { text: 'x', submit: [{ bogus: 1 }] })).status).toBe(400);
    expect((await admin('nothing-here')).status).toBe(404);
  });
});
