import { expect } from 'vitest';
import { type CallbackReceiver, startCallbackReceiver } from '../callbacks/callback-receiver.ts';
import { type ApiHarness, DRAWING, startApi } from '../producer/api-harness.ts';
import { DrawingStack, type DrawingStackOptions } from '../support/drawing-stack.ts';
import type { RedisTestContext } from '../support/redis-context.ts';

export const SECRET = 'whsec-steering-71c2e0aa';
const CALLBACK_ENV = { ATELIER_CALLBACK_SECRET: SECRET, ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' };

/** The text of item `index` (the simulator counts submits per text). */
export const textOf = (index: number) => `steered item ${index}`;

/** A simulator, a worker (drawing and callbacks), an API on the same prefix, a batch hook. */
export interface SteeringSetup {
  stack: DrawingStack;
  api: ApiHarness;
  hook: CallbackReceiver;
}

export async function steeringSetup(
  ctx: RedisTestContext,
  options: DrawingStackOptions & { worker?: boolean } = {},
): Promise<SteeringSetup> {
  const hook = await startCallbackReceiver({ secret: SECRET });
  ctx.onCleanup(() => hook.close());
  const stack = await DrawingStack.start(ctx, {
    ...options,
    env: {
      ...CALLBACK_ENV,
      ATELIER_WORKER_QUEUES: 'drawing,callbacks',
      ATELIER_STEERING_INTERVAL_MS: '200',
      ...options.env,
    },
  });
  const api = await startApi(ctx, { prefix: stack.prefix, env: CALLBACK_ENV });
  if (options.worker !== false) await stack.startWorker();
  return { stack, api, hook };
}

/** Creates a batch of `total` drawings (texts `textOf(i)`) with the batch hook; returns its id. */
export async function createBatch(setup: SteeringSetup, total: number): Promise<string> {
  const items = Array.from({ length: total }, (_, i) => ({ ...DRAWING, text: textOf(i) }));
  const res = await setup.api.call({
    method: 'POST',
    url: '/v1/batches',
    payload: { items, callbackUrl: setup.hook.url },
  });
  expect(res.statusCode).toBe(202);
  return res.json().id;
}

export interface BatchBody {
  id: string;
  total: number;
  completed: number;
  dead: number;
  cancelled: number;
  pending: number;
  state: string;
}

/** `GET /v1/batches/{id}`, checking that its counts add up (they must, at every moment). */
export async function readBatch(api: ApiHarness, id: string): Promise<BatchBody> {
  const res = await api.call({ method: 'GET', url: `/v1/batches/${id}` });
  expect(res.statusCode).toBe(200);
  const batch = res.json() as BatchBody;
  expect(batch.completed + batch.dead + batch.cancelled + batch.pending).toBe(batch.total);
  expect(batch.pending).toBeGreaterThanOrEqual(0);
  return batch;
}

/** Result lines of a batch (NDJSON), parsed. */
export async function resultLines(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/batches/${id}/results` });
  expect(res.statusCode).toBe(200);
  return res.body
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as {
          index: number;
          jobId: string;
          state: string;
          taskId?: string;
          images?: string[];
        },
    );
}

/** The `batch.completed` deliveries the hook accepted. */
export function batchCompletions(hook: CallbackReceiver) {
  return hook.accepted
    .map((request) => JSON.parse(request.body))
    .filter((body) => body.event === 'batch.completed');
}
