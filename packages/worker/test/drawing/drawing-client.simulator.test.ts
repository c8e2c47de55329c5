import { Writable } from 'node:stream';
import {
  createLogger,
  type DrawingTask,
  type Logger,
  type Outcome,
  outcomeLabel,
  Secret,
} from '@atelier/shared';
import { DrawingSimulator, type DrawingSimulatorOptions } from '@atelier/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/support/wait-for.ts';
import { gatewayCanonicalRequest } from '../../src/drawing/drawing-answers.ts';
import { createDrawingAuth } from '../../src/drawing/drawing-auth.ts';
import { DrawingClient } from '../../src/drawing/drawing-client.ts';

const APP_KEY = 'sim-app-key';
const APP_SECRET = 'sim-app-secret';
const silent = createLogger({ name: 'test', level: 'silent' });

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(
  options: {
    simulator?: DrawingSimulatorOptions;
    appSecret?: string;
    requestTimeoutMs?: number;
    logger?: Logger;
  } = {},
) {
  const logger = options.logger ?? silent;
  const simulator = await DrawingSimulator.start({
    auth: { mode: 'apig', apps: { [APP_KEY]: APP_SECRET } },
    duration: { kind: 'fixed', ms: 0 },
    ...options.simulator,
  });
  closers.push(() => simulator.close());
  const auth = createDrawingAuth(
    {
      authMode: 'apig',
      appKey: APP_KEY,
      appSecret: new Secret(options.appSecret ?? APP_SECRET),
      appCode: undefined,
      baseUrl: simulator.url,
    },
    logger,
  );
  const client = new DrawingClient({
    baseUrl: simulator.url,
    submitPath: simulator.submitPath,
    queryPath: simulator.queryPath,
    auth,
    logger,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
  });
  closers.push(() => client.close());
  return { simulator, client };
}

function task(text: string): DrawingTask {
  return { text, style: '油画', resolution: '1024*1024', num: 1 };
}

function expectFailure(outcome: Outcome<unknown>, kind: string, code: string) {
  expect({
    kind: outcomeLabel(outcome),
    code: 'error' in outcome ? outcome.error.code : undefined,
  }).toEqual({
    kind,
    code,
  });
  if (!('error' in outcome)) throw new Error('unreachable');
  return outcome.error;
}

async function submitted(client: DrawingClient, text: string): Promise<string> {
  const outcome = await client.submit(task(text));
  if (outcome.kind !== 'ok') throw new Error(`submit ${text}: ${outcome.kind}`);
  return outcome.value.taskId;
}

describe('DrawingClient against the DrawingSimulator (apig signatures verified by the simulator)', () => {
  it('a Chinese text: signed submit accepted → pending → done with images', async () => {
    const { simulator, client } = await setup();
    const text = '一只在月光下的猫 cat ~*';
    simulator.script(text, { query: [{ status: 0 }] });
    const first = await client.submit(task(text));
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.value.taskId).toMatch(/^\d+$/);
    expect(await client.query(first.value.taskId)).toMatchObject({ kind: 'pending' });
    const done = await client.query(first.value.taskId);
    expect(done.kind).toBe('ok');
    if (done.kind === 'ok') expect(done.value.images.length).toBeGreaterThanOrEqual(1);
    expect(simulator.counters()).toMatchObject({ authFailures: 0, tasksCreated: 1 });
  });

  it('numeric taskIds beyond 2^53 survive the round trip', async () => {
    const { simulator, client } = await setup({
      simulator: { numericTaskIds: true, taskIdDigits: 22 },
    });
    const taskId = await submitted(client, 'a numeric id');
    expect(taskId).toMatch(/^\d{22}$/);
    expect((await client.query(taskId)).kind).toBe('ok');
    expect(simulator.queriesFor(taskId)).toBe(1);
  });

  it.each([
    [500, 'outage'],
    [501, 'outage'],
    [999, 'retryable'],
    [202, 'terminal'],
    [400, 'terminal'],
  ])('submit answered code %i → %s', async (code, kind) => {
    const { simulator, client } = await setup();
    simulator.script('coded', { submit: [{ code }] });
    const error = expectFailure(await client.submit(task('coded')), kind, String(code));
    if (code === 999) expect(error.retryLimit).toBe(3);
  });

  it('query answered code 201 (taskId does not exist) → terminal', async () => {
    const { simulator, client } = await setup();
    const taskId = await submitted(client, 'gone');
    simulator.script('gone', { query: [{ code: 201 }] });
    expectFailure(await client.query(taskId), 'terminal', '201');
  });

  it('a task failing with status 9 → terminal STATUS_9', async () => {
    const { simulator, client } = await setup();
    const taskId = await submitted(client, 'fails');
    simulator.script('fails', { query: [{ status: 9 }] });
    expectFailure(await client.query(taskId), 'terminal', 'STATUS_9');
  });

  it('Huawei throttling (429 APIGW.0308) → throttled', async () => {
    const { simulator, client } = await setup();
    simulator.setFaults({ throttle: { qps: 1, style: 'huawei' } });
    const outcomes = [await client.submit(task('t1')), await client.submit(task('t2'))];
    expectFailure(outcomes[1] as Outcome<unknown>, 'throttled', 'APIGW.0308');
  });

  it('Aliyun throttling (403 Flow Control) → throttled', async () => {
    const { simulator, client } = await setup();
    simulator.setFaults({ throttle: { qps: 1, style: 'aliyun' } });
    const outcomes = [await client.submit(task('t1')), await client.submit(task('t2'))];
    expectFailure(outcomes[1] as Outcome<unknown>, 'throttled', 'ALIYUN_THROTTLED');
  });

  it.each([
    ['huawei-used-up', 'APIGW.0501'],
    ['huawei-frozen', 'APIGW.0502'],
    ['aliyun-exhausted', 'ALIYUN_QUOTA'],
    ['aliyun-expired', 'ALIYUN_QUOTA'],
  ] as const)('quota fault %s → config %s', async (quota, code) => {
    const { simulator, client } = await setup();
    simulator.setFaults({ quota });
    expectFailure(await client.submit(task('quota')), 'config', code);
  });

  it('a dropped connection (before or after processing) → retryable NETWORK', async () => {
    const { simulator, client } = await setup();
    simulator.script('dropped', { submit: [{ drop: true }, { drop: 'after' }] });
    expectFailure(await client.submit(task('dropped')), 'retryable', 'NETWORK');
    expectFailure(await client.submit(task('dropped')), 'retryable', 'NETWORK');
  });

  it('a malformed JSON answer → retryable MALFORMED_RESPONSE', async () => {
    const { simulator, client } = await setup();
    simulator.script('cut', { submit: [{ malformed: true }] });
    expectFailure(await client.submit(task('cut')), 'retryable', 'MALFORMED_RESPONSE');
  });

  it('an answer slower than requestTimeoutMs → retryable TIMEOUT', async () => {
    const { simulator, client } = await setup({ requestTimeoutMs: 150 });
    simulator.script('slow', { submit: [{ delayMs: 3000 }] });
    expectFailure(await client.submit(task('slow')), 'retryable', 'TIMEOUT');
  });

  it('a wrong AppSecret → config APIG.0303; the echo equals what we signed', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()));
        callback();
      },
    });
    const { simulator, client } = await setup({
      appSecret: 'wrong-secret',
      logger: createLogger({ name: 'test', destination }),
    });
    const error = expectFailure(await client.submit(task('bad key')), 'config', 'APIG.0303');
    expect(error.httpStatus).toBe(401);
    const echo = gatewayCanonicalRequest(error);
    expect(echo?.split('\n').slice(0, 2)).toEqual(['POST', `${simulator.submitPath}/`]);
    // Same request, only the secret differs: the gateway's canonical request is ours.
    const logged = lines.find((line) => line.code === 'APIG.0303');
    expect(logged?.canonicalRequest).toBe(echo);
    expect(logged?.gatewayCanonicalRequest).toBe(echo);
    expect(JSON.stringify(lines)).not.toContain('wrong-secret');
    expect(simulator.counters()).toMatchObject({ authFailures: 1, tasksCreated: 0 });
  });

  it('an AbortSignal aborts an in-flight request with its reason', async () => {
    const { simulator, client } = await setup();
    simulator.script('aborted', { submit: [{ delayMs: 10_000 }] });
    const controller = new AbortController();
    const pending = client.submit(task('aborted'), controller.signal);
    await waitFor(() => simulator.counters().submits === 1, { what: 'the submit to arrive' });
    const reason = new Error('job cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
