import { readFileSync } from 'node:fs';
import type { AnyJobData } from '@atelier/shared';
import { createRedisConnection, DeadLetterStore } from '@atelier/store';
import { Queue } from 'bullmq';
import type { CallbackReceiver } from '../callbacks/callback-receiver.ts';
import type { ChaosApiClient } from './chaos-api-client.ts';
import { forEachLimit } from './chaos-pool.ts';
import { QUEUE_PREFIX } from './chaos-stack.ts';
import type { AcceptedJob, BatchTruth, CallbackSeen, JobTruth, PaidTask } from './chaos-verdict.ts';

const FINAL = new Set(['completed', 'dead']);

/** `GET /v1/jobs/{id}`: the state, `missing` on 404, `unknown` when the API did not answer. */
export async function apiState(
  api: ChaosApiClient,
  id: string,
): Promise<{ state: string; code?: string }> {
  const answer = await api.request('GET', `/v1/jobs/${encodeURIComponent(id)}`).catch(() => null);
  if (answer === null) return { state: 'unknown' };
  if (answer.status === 404) return { state: 'missing' };
  const body = answer.body as { state?: string; error?: { code?: string } };
  return {
    state: body.state ?? `http ${answer.status}`,
    ...(body.error?.code ? { code: body.error.code } : {}),
  };
}

/**
 * Waits until every job has ended (completed or dead) or `deadline` passes; asks only about
 * jobs not yet seen ending. Returns how many had not ended.
 */
export async function drain(
  api: ChaosApiClient,
  jobs: readonly AcceptedJob[],
  deadline: number,
  say: (line: string) => void,
): Promise<number> {
  let open = jobs.map((j) => j.id);
  let lastSaid = 0;
  while (open.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    await forEachLimit(open, 16, async (id) => {
      if (!FINAL.has((await apiState(api, id)).state)) still.push(id);
    });
    open = still;
    if (Date.now() - lastSaid > 10_000) {
      say(`  ${open.length} jobs not ended yet`);
      lastSaid = Date.now();
    }
    if (open.length > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  return open.length;
}

/**
 * Every job's end as the API tells it, and as Redis holds it (BullMQ state, dead letter,
 * `unconfirmedSubmits`), read straight from Redis with the deployment's prefix.
 */
export async function readTruth(
  api: ChaosApiClient,
  redisUrl: string,
  jobs: readonly AcceptedJob[],
): Promise<Map<string, JobTruth>> {
  const redis = createRedisConnection({ url: redisUrl, role: 'worker' });
  const queues = {
    drawing: new Queue<AnyJobData>('drawing', { connection: redis, prefix: QUEUE_PREFIX }),
    cme: new Queue<AnyJobData>('cme', { connection: redis, prefix: QUEUE_PREFIX }),
  };
  const deadLetters = new DeadLetterStore(redis, QUEUE_PREFIX);
  const truth = new Map<string, JobTruth>();
  try {
    await forEachLimit(jobs, 16, async (job) => {
      const [fromApi, bull, entry] = await Promise.all([
        apiState(api, job.id),
        queues[job.kind].getJob(job.id),
        deadLetters.get(job.id),
      ]);
      const data = bull?.data;
      const code = entry?.code ?? fromApi.code;
      truth.set(job.id, {
        apiState: fromApi.state,
        bullState: bull ? await bull.getState() : 'missing',
        deadLetter: entry !== undefined,
        unconfirmedSubmits: data?.kind === 'drawing' ? (data.state?.unconfirmedSubmits ?? 0) : 0,
        ...(code ? { code } : {}),
      });
    });
  } finally {
    await Promise.all([queues.drawing.close(), queues.cme.close()]);
    redis.disconnect();
  }
  return truth;
}

/** The drawing tasks the simulator created for texts starting with `textPrefix`. */
export async function readPaidTasks(drawingAdmin: string, textPrefix: string): Promise<PaidTask[]> {
  const response = await fetch(`${drawingAdmin}tasks?textPrefix=${encodeURIComponent(textPrefix)}`);
  if (!response.ok) throw new Error(`simulator tasks: ${response.status}`);
  const { tasks } = (await response.json()) as { tasks: PaidTask[] };
  return tasks.map(({ text, submittedAtMs, answered }) => ({ text, submittedAtMs, answered }));
}

/** Every verified callback request the receiver got (repeats included). */
export function callbacksSeen(receiver: CallbackReceiver): CallbackSeen[] {
  return receiver.requests
    .filter((r) => r.verification.ok)
    .map((r) => {
      const body = JSON.parse(r.body) as { event: string; id: string; deliveryId: string };
      return { event: body.event, id: body.id, deliveryId: body.deliveryId };
    });
}

/** `job dead-lettered` lines (one per dead-letter insert) per job id, across the log files. */
export function deadLetterInserts(logFiles: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of logFiles) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('"msg":"job dead-lettered"')) continue;
      try {
        const { jobId } = JSON.parse(line) as { jobId?: string };
        if (jobId) counts.set(jobId, (counts.get(jobId) ?? 0) + 1);
      } catch {
        // A line cut by a SIGKILL.
      }
    }
  }
  return counts;
}

/** `GET /v1/batches/{id}` and its NDJSON results. */
export async function readBatch(api: ChaosApiClient, id: string): Promise<BatchTruth> {
  const path = `/v1/batches/${encodeURIComponent(id)}`;
  const [status, results] = await Promise.all([
    api.request('GET', path),
    api.request('GET', `${path}/results`),
  ]);
  const reported =
    status.status === 200
      ? (status.body as BatchTruth['reported'])
      : { total: 0, completed: 0, dead: 0, pending: 0, state: `http ${status.status}` };
  const lines = new Map<number, string>();
  if (results.status !== 200) return { id, reported, lines };
  const text = typeof results.body === 'string' ? results.body : JSON.stringify(results.body);
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const { index, state } = JSON.parse(line) as { index: number; state: string };
    lines.set(index, state);
  }
  return { id, reported, lines };
}
