/**
 * One side of a drawing benchmark, alone in its process so that the CPU it reports is its own:
 *
 *   BENCH_SIDE=atelier  Atelier's worker exactly as `pnpm --filter @atelier/worker start` runs
 *                       it (configuration from the environment).
 *   BENCH_SIDE=plain    The loop a BullMQ user would write for this API: a step job (got submit,
 *                       updateData with the taskId, moveToDelayed, got query, again until done),
 *                       concurrency 50; first poll BENCH_FIRST_MS after submit, then every
 *                       BENCH_INTERVAL_MS. Queue BENCH_QUEUE under prefix BENCH_PREFIX; jobs are
 *                       added by the parent with `removeOnComplete: true`.
 *
 * Messages from the parent: `{expect: n}` — count completions from now on and mark the CPU
 * clock (answers `{marked: true}`; sends `{done: true}` at the n-th completion); `{report: true}`
 * — answers `{cpuMs, seen}` (CPU since the mark; per taskId, when a poll saw it done);
 * `{close: true}` — closes and exits.
 */
import { createLogger, type DrawingResult, loadConfig } from '@atelier/shared';
import { AtelierWorker } from '@atelier/worker';
import { DelayedError, type Job, Worker } from 'bullmq';
import got from 'got';
import { Redis } from 'ioredis';

interface Message {
  expect?: number;
  report?: boolean;
  close?: boolean;
}

const seen = new Map<string, number>();
let expected = Number.POSITIVE_INFINITY;
let completed = 0;
let mark = process.cpuUsage();

function complete(taskId: string, at: number) {
  seen.set(taskId, at);
  completed++;
  if (completed === expected) process.send?.({ done: true });
}

const side = process.env.BENCH_SIDE;
let close: () => Promise<void>;

if (side === 'atelier') {
  const worker = await AtelierWorker.start({
    config: loadConfig(process.env, 'worker'),
    logger: createLogger({ name: 'bench-worker', level: 'warn' }),
  });
  const drawing = worker.queues.find((q) => q.name === 'drawing')?.worker;
  if (!drawing) throw new Error('the Atelier worker runs no drawing queue');
  drawing.on('completed', (_job, result: DrawingResult) =>
    complete(result.taskId, result.finishedAt),
  );
  close = () => worker.close();
} else if (side === 'plain') {
  const env = (name: string) => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`${name} is required`);
    return value;
  };
  const submitUrl = new URL(env('DRAWING_SUBMIT_PATH'), env('DRAWING_BASE_URL')).href;
  const queryUrl = new URL(env('DRAWING_QUERY_PATH'), env('DRAWING_BASE_URL')).href;
  const firstMs = Number(env('BENCH_FIRST_MS'));
  const intervalMs = Number(env('BENCH_INTERVAL_MS'));
  const connection = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
  type Task = { text: string; style: string; resolution: string; num: number; taskId?: string };
  type Answer = { code: number; data?: { taskId?: string; status?: number } };

  // ---- the plain loop: what a user writes ----
  const worker = new Worker(
    env('BENCH_QUEUE'),
    async (job: Job<Task>, token?: string) => {
      const { taskId } = job.data;
      if (!taskId) {
        const answer = await got.post(submitUrl, { form: job.data }).json<Answer>();
        if (answer.code !== 200 || !answer.data?.taskId) throw new Error(`submit: ${answer.code}`);
        await job.updateData({ ...job.data, taskId: answer.data.taskId });
        await job.moveToDelayed(Date.now() + firstMs, token);
        throw new DelayedError();
      }
      const answer = await got.post(queryUrl, { form: { taskId } }).json<Answer>();
      if (answer.code !== 200) throw new Error(`query: ${answer.code}`);
      if (answer.data?.status === 1) {
        complete(taskId, Date.now()); // (the benchmark's only addition: when it saw it done)
        return answer.data;
      }
      await job.moveToDelayed(Date.now() + intervalMs, token);
      throw new DelayedError();
    },
    { connection, prefix: env('BENCH_PREFIX'), concurrency: 50 },
  );
  // ---- end of the plain loop ----
  await worker.waitUntilReady();
  close = async () => {
    await worker.close();
    connection.disconnect();
  };
} else {
  throw new Error(`BENCH_SIDE must be atelier or plain, got ${side}`);
}

process.on('message', async (message: Message) => {
  if (message.expect !== undefined) {
    seen.clear();
    completed = 0;
    expected = message.expect;
    mark = process.cpuUsage();
    process.send?.({ marked: true });
  } else if (message.report) {
    const cpu = process.cpuUsage(mark);
    process.send?.({ cpuMs: (cpu.user + cpu.system) / 1000, seen: [...seen] });
  } else if (message.close) {
    await close();
    process.disconnect();
  }
});
process.send?.({ ready: true });
