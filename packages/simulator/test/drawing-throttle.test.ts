import { afterEach, describe, expect, it } from 'vitest';
import { DrawingSimulator, type DrawingSimulatorOptions } from '../src/index.ts';
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

describe('drawing simulator QPS throttling', () => {
  it('answers HTTP 429 APIGW.0308 past the limit in any sliding second', async () => {
    const { s, clock } = await start({ faults: { throttle: { qps: 3 } } });
    const statuses: number[] = [];
    statuses.push((await postForm(s.submitUrl, TASK)).status);
    clock.nowMs = START + 400;
    statuses.push((await postForm(s.queryUrl, { taskId: '1' })).status);
    statuses.push((await postForm(s.submitUrl, TASK)).status);
    const throttled = await postForm(s.submitUrl, TASK);
    expect(statuses).toEqual([200, 200, 200]);
    expect(throttled.status).toBe(429);
    expect(json(throttled)).toMatchObject({
      error_code: 'APIGW.0308',
      error_msg: expect.stringMatching(
        /^The throttling threshold has been reached: policy user over ratelimit,limit:3/,
      ),
    });
    clock.nowMs = START + 999;
    expect((await postForm(s.submitUrl, TASK)).status).toBe(429);
    clock.nowMs = START + 1_000; // the first call leaves the window
    expect((await postForm(s.submitUrl, TASK)).status).toBe(200);
    expect((await postForm(s.submitUrl, TASK)).status).toBe(429);
    clock.nowMs = START + 1_400; // the next two leave it
    expect((await postForm(s.submitUrl, TASK)).status).toBe(200);
    expect(s.counters()).toMatchObject({ submits: 7, queries: 1, faults: { throttled: 3 } });
  });

  it('answers the Aliyun way when asked: HTTP 403 Throttled by USER Flow Control', async () => {
    const { s } = await start({ faults: { throttle: { qps: 1, style: 'aliyun' } } });
    expect((await postForm(s.submitUrl, TASK)).status).toBe(200);
    const throttled = await postForm(s.submitUrl, TASK);
    expect(throttled.status).toBe(403);
    expect(throttled.headers.get('x-ca-error-message')).toBe('Throttled by USER Flow Control');
  });

  it('throttles Aliyun-style by default behind the Aliyun gateway, and stops when cleared', async () => {
    const { s } = await start({
      auth: { mode: 'aliyun-appcode', appCodes: ['c'] },
      faults: { throttle: { qps: 1 } },
    });
    const headers = { authorization: 'APPCODE c' };
    expect((await postForm(s.submitUrl, TASK, headers)).status).toBe(200);
    expect((await postForm(s.submitUrl, TASK, headers)).status).toBe(403);
    s.setFaults({ throttle: null });
    expect((await postForm(s.submitUrl, TASK, headers)).status).toBe(200);
  });
});
