import { type DrawingJobData, type DrawingResult, QUEUE_NAMES } from '@atelier/shared';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const JOBS = 1000;
/** Reads made while the jobs finish (the reading goes on until every job has finished). */
const READS = 100_000;
const READERS = 32;
/** Every this many jobs, one fails for good (the rest complete). */
const DEAD_EVERY = 10;
/** Reads go to the oldest this many unfinished jobs. */
const HEAD = 8;

const imageOf = (id: string) => `https://img.example/${id}.png`;

describe('job status under load', () => {
  it(`never answers a terminal state without its own result or error (${READS} reads while ${JOBS} jobs finish)`, async () => {
    const api = await startApi(ctx);
    const { producer } = api;
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 100) {
      const chunk = Array.from({ length: Math.min(100, JOBS - i) }, () =>
        producer.enqueueDrawing(DRAWING),
      );
      ids.push(...(await Promise.all(chunk)).map((r) => r.id));
    }
    const dies = new Set(ids.filter((_, i) => i % DEAD_EVERY === 0));

    const worker = new Worker<DrawingJobData, DrawingResult>(
      QUEUE_NAMES.drawing,
      async (job) => {
        const id = job.id ?? '';
        if (dies.has(id)) throw new UnrecoverableError(`[POLL_TIMEOUT] gave up on ${id}`);
        return {
          taskId: `task-${id}`,
          images: [imageOf(id)],
          polls: 1,
          submittedAt: 1,
          finishedAt: 2,
        };
      },
      {
        connection: ctx.connection(),
        prefix: api.prefix,
        concurrency: 4,
        // 1,000 jobs finish over about 7 s, while the reads go on.
        limiter: { max: 15, duration: 100 },
        autorun: false,
      },
    );
    ctx.onCleanup(() => worker.close(true));

    const unfinished = [...ids];
    const seen: Record<string, number> = {};
    /** Terminal answers without their result or error, and with someone else's (or none of theirs). */
    const missing: unknown[] = [];
    const wrong: unknown[] = [];
    let reads = 0;
    let racingReads = 0;
    let next = 0;
    const reader = async () => {
      while (reads < READS || unfinished.length > 0) {
        const racing = unfinished.length > 0;
        const n = next++;
        // The oldest unfinished jobs are the ones running or next to run (FIFO within a priority).
        const id = (
          racing ? unfinished[n % Math.min(HEAD, unfinished.length)] : ids[n % JOBS]
        ) as string;
        const status = await producer.getJob(id);
        reads++;
        if (racing) racingReads++;
        seen[status.state] = (seen[status.state] ?? 0) + 1;
        if (status.state === 'completed' || status.state === 'dead') {
          const outcome = status.state === 'completed' ? status.result : status.error;
          const own =
            status.state === 'completed'
              ? (status.result as DrawingResult | undefined)?.images?.[0] === imageOf(id)
              : status.error?.code === 'POLL_TIMEOUT' &&
                status.error.message === `gave up on ${id}`;
          if (outcome === undefined || outcome === null) missing.push(status);
          else if (!own) wrong.push(status);
          const at = unfinished.indexOf(id);
          if (at >= 0) unfinished.splice(at, 1);
        }
      }
    };
    const started = Date.now();
    worker.run();
    await Promise.all(Array.from({ length: READERS }, reader));
    const ms = Date.now() - started;
    console.log(
      `${reads} reads (${racingReads} while jobs were finishing) in ${ms} ms; states seen: ` +
        `${JSON.stringify(seen)}; terminal without result/error: ${missing.length}; ` +
        `with an error not the job's: ${wrong.length}`,
    );

    expect(missing.slice(0, 3)).toEqual([]);
    expect(wrong.slice(0, 3)).toEqual([]);
    expect({ missing: missing.length, wrong: wrong.length }).toEqual({ missing: 0, wrong: 0 });
    expect(reads).toBeGreaterThanOrEqual(READS);
    // The reads raced the work: they saw jobs before, while and after they ran.
    expect(seen.queued).toBeGreaterThan(0);
    expect(seen.completed).toBeGreaterThan(0);
    expect(seen.dead).toBeGreaterThan(0);
  });
});
