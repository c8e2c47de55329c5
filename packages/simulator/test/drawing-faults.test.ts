import { afterEach, describe, expect, it } from 'vitest';
import {
  type DrawingFaultCode,
  DrawingSimulator,
  type DrawingSimulatorOptions,
} from '../src/index.ts';
import { json, postForm, TASK } from './drawing-http.ts';

const START = Date.UTC(2024, 5, 1);
let sim: DrawingSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: DrawingSimulatorOptions = {}) {
  const clock = { nowMs: START };
  sim = await DrawingSimulator.start({ clock: () => clock.nowMs, ...options });
  return { s: sim, clock };
}

async function submitOk(s: DrawingSimulator): Promise<string> {
  const answer = json(await postForm(s.submitUrl, TASK));
  expect(answer.code).toBe(200);
  return answer.data.taskId as string;
}

describe('drawing simulator fault injection', () => {
  it.each([201, 202, 400, 500, 501, 999] as DrawingFaultCode[])(
    'serves and counts code %i on submit and on query',
    async (code) => {
      const { s } = await start();
      const taskId = await submitOk(s);
      s.setFaults({ submitCodeRates: { [code]: 1 } });
      expect(json(await postForm(s.submitUrl, TASK))).toMatchObject({ code, data: null });
      expect(json(await postForm(s.queryUrl, { taskId })).code).toBe(200);
      s.setFaults({ submitCodeRates: {}, queryCodeRates: { [code]: 1 } });
      expect(json(await postForm(s.queryUrl, { taskId })).code).toBe(code);
      expect(s.counters().faults[`code${code}`]).toBe(2);
      expect(s.counters().tasksCreated).toBe(1);
    },
  );

  it('draws rates from the seeded PRNG, reproducibly', async () => {
    const run = async () => {
      const { s } = await start({ seed: 99, faults: { submitCodeRates: { 500: 0.3, 999: 0.2 } } });
      const codes: number[] = [];
      for (let i = 0; i < 100; i++)
        codes.push(json(await postForm(s.submitUrl, TASK)).code as number);
      await s.close();
      return codes;
    };
    const codes = await run();
    const count = (c: number) => codes.filter((x) => x === c).length;
    expect(count(500)).toBeGreaterThan(15);
    expect(count(500)).toBeLessThan(45);
    expect(count(999)).toBeGreaterThan(8);
    expect(count(200)).toBe(100 - count(500) - count(999));
    expect(await run()).toEqual(codes);
  });

  it('blocks texts containing a blocked word with code 202', async () => {
    const { s } = await start({ faults: { blockedWords: ['猫'] } });
    expect(json(await postForm(s.submitUrl, TASK))).toMatchObject({ code: 202 });
    expect(json(await postForm(s.submitUrl, { ...TASK, text: 'a dog' })).code).toBe(200);
    expect(s.counters()).toMatchObject({ tasksCreated: 1, faults: { blocked: 1 } });
  });

  it.each([
    ['huawei-used-up', 405, 'APIGW.0501'],
    ['huawei-frozen', 405, 'APIGW.0502'],
  ] as const)('answers quota %s with HTTP %i %s', async (quota, status, errorCode) => {
    const { s } = await start({ faults: { quota } });
    const answer = await postForm(s.submitUrl, TASK);
    expect(answer.status).toBe(status);
    expect(json(answer)).toMatchObject({ error_code: errorCode });
    expect(s.counters()).toMatchObject({ tasksCreated: 0, faults: { quota: 1 } });
  });

  it.each([
    ['aliyun-exhausted', 'Quota Exhausted'],
    ['aliyun-expired', 'Quota Expired'],
  ] as const)('answers quota %s with HTTP 403 and X-Ca-Error-Message', async (quota, message) => {
    const { s } = await start({ faults: { quota } });
    const answer = await postForm(s.queryUrl, { taskId: '1' });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('x-ca-error-message')).toBe(message);
  });

  it('answers the maintenance code to every call until the window ends', async () => {
    const { s, clock } = await start({ duration: { kind: 'fixed', ms: 0 } });
    const taskId = await submitOk(s);
    s.setFaults({ maintenance: { code: 501, untilEpochMs: START + 60_000 } });
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(501);
    expect(json(await postForm(s.queryUrl, { taskId })).code).toBe(501);
    clock.nowMs = START + 60_000;
    expect(json(await postForm(s.queryUrl, { taskId }))).toMatchObject({
      code: 200,
      data: { status: 1 },
    });
    expect(s.counters().faults.maintenance).toBe(2);
  });

  it('delays answers by delayMs, and by slowDelayMs at slowRate', async () => {
    const { s } = await start({ faults: { delayMs: 150 } });
    let started = performance.now();
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    s.setFaults({ delayMs: 0, slowRate: 1, slowDelayMs: 200 });
    started = performance.now();
    expect(json(await postForm(s.submitUrl, TASK)).code).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(s.counters().faults.slow).toBe(2);
  });

  it('drops connections without answering or creating a task', async () => {
    const { s } = await start({ faults: { dropRate: 1 } });
    await expect(postForm(s.submitUrl, TASK)).rejects.toThrow();
    expect(s.counters()).toMatchObject({ submits: 1, tasksCreated: 0, faults: { drop: 1 } });
  });

  it('answers an HTML error page from a proxy without creating a task', async () => {
    const { s } = await start({ faults: { htmlRate: 1, htmlStatus: 504 } });
    const answer = await postForm(s.submitUrl, TASK);
    expect(answer.status).toBe(504);
    expect(answer.headers.get('content-type')).toBe('text/html');
    expect(answer.text).toContain('<title>504 Gateway Timeout</title>');
    expect(s.counters()).toMatchObject({ submits: 1, tasksCreated: 0, faults: { html: 1 } });
    expect(() => s.setFaults({ htmlStatus: 200 })).toThrow(/faults\.htmlStatus/);
  });

  it('serves malformed JSON after processing the call', async () => {
    const { s } = await start({ faults: { malformedRate: 1 } });
    const answer = await postForm(s.submitUrl, TASK);
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
    expect(answer.text.startsWith('{"code":200')).toBe(true);
    expect(s.counters()).toMatchObject({ tasksCreated: 1, faults: { malformed: 1 } });
  });

  it('fails finished tasks with a status other than 0/1, for good', async () => {
    const { s, clock } = await start({ duration: { kind: 'fixed', ms: 1_000 } });
    const taskId = await submitOk(s);
    s.setFaults({ badStatusRate: 1, badStatus: 9 });
    expect(json(await postForm(s.queryUrl, { taskId })).data.status).toBe(0);
    clock.nowMs = START + 1_000;
    expect(json(await postForm(s.queryUrl, { taskId })).data).toMatchObject({
      status: 9,
      imgUrls: [],
    });
    s.resetFaults();
    expect(json(await postForm(s.queryUrl, { taskId })).data.status).toBe(9);
    expect(s.counters().faults.badStatus).toBe(1);
  });

  it('refuses fault settings it does not know, naming the field', () => {
    return start().then(({ s }) => {
      expect(() => s.setFaults({ dropRate: 2 })).toThrow(/faults\.dropRate/);
      expect(() => s.setFaults({ submitCodeRates: { 503: 1 } as never })).toThrow(
        /submitCodeRates/,
      );
      expect(() => s.setFaults({ nope: 1 } as never)).toThrow(/faults\.nope/);
    });
  });
});
