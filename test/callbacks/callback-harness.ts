import { Writable } from 'node:stream';
import {
  type CallbackEvent,
  type CallbackJobData,
  createLogger,
  type HostResolver,
  loadConfig,
} from '@atelier/shared';
import type { CallbackDeliveryInfo } from '@atelier/worker';
import { type CallbackWorker, startCallbackWorker } from '@atelier/worker';
import type { JobsOptions } from 'bullmq';
import type { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

export const SECRET = 'whsec-test-5d1f0c8e9a7b';

export interface CallbackHarness extends CallbackWorker {
  deliveries: CallbackDeliveryInfo[];
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
  logText(): string;
  /** Adds a delivery the way the worker's `CallbackScheduler` does (job id = delivery id). */
  send(
    url: string,
    deliveryId: string,
    body?: Record<string, unknown>,
    opts?: JobsOptions,
    event?: CallbackEvent,
  ): Promise<void>;
  /** Waits until the delivery is completed or failed and returns the job. */
  settled(deliveryId: string): Promise<{ state: string; failedReason: string; attempts: number }>;
}

export async function startCallbackHarness(
  ctx: RedisTestContext,
  options: { allowPrivate?: boolean; resolve?: HostResolver; env?: Record<string, string> } = {},
): Promise<CallbackHarness> {
  const config = loadConfig({
    ATELIER_CALLBACK_SECRET: SECRET,
    ATELIER_CALLBACK_ALLOW_PRIVATE: String(options.allowPrivate ?? true),
    ATELIER_CALLBACK_TIMEOUT_MS: '2000',
    ATELIER_RETRY_BASE_MS: '20',
    ATELIER_RETRY_MAX_MS: '5000',
    ...options.env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  const deliveries: CallbackDeliveryInfo[] = [];
  const started = await startCallbackWorker({
    connection: ctx.connection(),
    prefix: ctx.prefix('cb'),
    config,
    logger: createLogger({ name: 'callbacks-test', level: 'debug', destination }),
    onDelivery: (info) => deliveries.push(info),
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  ctx.onCleanup(() => started.close());
  const { queue } = started;
  return {
    ...started,
    deliveries,
    logs,
    logText: () => logs.map((line) => JSON.stringify(line)).join('\n'),
    async send(url, deliveryId, body, opts, event = 'job.completed') {
      const data: CallbackJobData = {
        url,
        event,
        body: body ?? { event, id: deliveryId.split('.')[0], state: 'completed' },
      };
      await queue.add(event, data, { ...opts, jobId: deliveryId });
    },
    async settled(deliveryId) {
      return waitFor(
        async () => {
          // State first: a job read before it settles would show the attempt counts of before.
          const state = await queue.getJobState(deliveryId);
          if (state !== 'completed' && state !== 'failed') return undefined;
          const job = await queue.getJob(deliveryId);
          if (!job) return undefined;
          return { state, failedReason: job.failedReason ?? '', attempts: job.attemptsMade };
        },
        { what: `delivery ${deliveryId} to settle`, timeoutMs: 20_000 },
      );
    },
  };
}
