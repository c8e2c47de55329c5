import { atelierKeys, type DeadLetter, type JobCancelled } from '@atelier/shared';
import { LockLostError } from './lock-lost-error.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

/**
 * What the writes of a running job are fenced by: its BullMQ job hash and the token of the
 * lock its worker took (BullMQ keeps it in `<jobKey>:lock`, renewed while the job runs).
 */
export interface JobLock {
  jobId: string;
  /** BullMQ's job hash, `<prefix>:<queue>:<jobId>` (`Job.queueQualifiedName` and the id). */
  jobKey: string;
  token: string;
}

/** The lock of the job running under `token` (BullMQ names the keys: `Job.queueQualifiedName`). */
export function jobLock(
  job: { id?: string | undefined; queueQualifiedName: string },
  token: string,
): JobLock {
  const jobId = job.id ?? '';
  return { jobId, jobKey: `${job.queueQualifiedName}:${jobId}`, token };
}

/** BullMQ's lock key of a job hash. */
export function lockKeyOf(jobKey: string): string {
  return `${jobKey}:lock`;
}

/**
 * Lua for fenced scripts: true while the lock key holds the token and the job hash exists
 * (a write must never recreate a removed job's hash).
 */
export const HOLDS_LOCK_LUA = `
local function holdsLock(jobKey, lockKey, token)
  return redis.call('GET', lockKey) == token and redis.call('EXISTS', jobKey) == 1
end
`;

/**
 * The job-hash field that records a completion settled before BullMQ recorded it (batch item
 * or callback done): `{replays, result}`. A run that finds it for its own replay finishes that
 * completion instead of running again.
 */
export const COMPLETION_FIELD = 'atelierCompleted';

/**
 * The job-hash field that records a job ended unpaid by a cancel (`JobCancelled` JSON): written
 * with its batch item, in the script that decides it (`JobCancellation`).
 */
export const CANCELLED_FIELD = 'atelierCancelled';

/**
 * The job-hash field set when a cancel reaches a job that is running (its time): the job stops
 * at its submit, which it may no longer start.
 */
export const CANCEL_REQUEST_FIELD = 'atelierCancelRequested';

/**
 * Records the submit intent (the job data) only while the lock holds and nothing forbids the
 * submit: a cancel of the job (2) or of its batch (3), or a paused batch (4: the job id joins
 * the batch's parked set, for the resume to release). Cancels check for the intent in scripts
 * of their own, so whichever of a cancel and a submit comes first, a cancelled job is never
 * paid for. KEYS: job hash, lock[, batch record, parked set]. ARGV: token, data, job id.
 * Returns 1 when written, 0 when fenced off.
 */
const CLAIM_SUBMIT = new LuaScript(`${HOLDS_LOCK_LUA}
if not holdsLock(KEYS[1], KEYS[2], ARGV[1]) then return 0 end
if redis.call('HEXISTS', KEYS[1], '${CANCEL_REQUEST_FIELD}') == 1 then return 2 end
if KEYS[3] then
  local state = redis.call('HGET', KEYS[3], 'state')
  if state == 'cancelling' or state == 'cancelled' then return 3 end
  if state == 'paused' then
    redis.call('SADD', KEYS[4], ARGV[3])
    return 4
  end
end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
return 1
`);

/** What `JobFence.claimSubmit` answers: go ahead, or why not. */
export type SubmitClaim = 'granted' | 'paused' | 'cancelled';

/**
 * Sets fields of a job hash while the lock holds. KEYS: job hash, lock. ARGV: token, then
 * field/value pairs. Returns 1 when written, 0 when fenced off.
 */
const WRITE = new LuaScript(`${HOLDS_LOCK_LUA}
if not holdsLock(KEYS[1], KEYS[2], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`);

/**
 * Replaces the job data if it is still the one read before and the job has not finished
 * (BullMQ sets `finishedOn` when it records a completion or a failure). KEYS: job hash.
 * ARGV: expected data, new data. Returns 1 when replaced.
 */
const REPLACE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'data') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'finishedOn') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
return 1
`);

/** What a run of a job finds recorded of an end an earlier run settled. */
export interface RecordedEnding {
  /** A completion settled (batch item, callback) that BullMQ may not have recorded. */
  completed?: { replays: number; result: unknown };
  /** A cancel that ended the job unpaid (batch item settled) before BullMQ recorded it. */
  cancelled?: JobCancelled;
  /** The job's dead letter. */
  deadLetter?: DeadLetter;
}

/**
 * Writes to a running job's BullMQ hash, each checking in the same script that the writing
 * worker still holds the job's lock: a worker cut off from Redis longer than the lock, whose
 * job another worker took over, cannot overwrite the new owner's state. Also the reads and the
 * compare-and-set a worker needs to finish what an earlier run of a job left half done.
 */
export class JobFence {
  readonly #redis: RedisClient;
  readonly #deadLetters: string;
  readonly #batches: ReturnType<typeof atelierKeys>['batch'];

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    const keys = atelierKeys(prefix);
    this.#deadLetters = keys.deadLetters.entries;
    this.#batches = keys.batch;
  }

  /** Saves the job data; throws `LockLostError` when the lock is lost. */
  async save(lock: JobLock, data: string): Promise<void> {
    await this.#write(lock, ['data', data], 'saving its data');
  }

  /**
   * Saves the job data that records a submit intent, only if the job may submit now (one
   * script with the lock check): not when the job or its batch (`batchId`) was cancelled, nor
   * while its batch is paused (the job is then parked: the resume releases it). Throws
   * `LockLostError` when the lock is lost.
   */
  async claimSubmit(lock: JobLock, data: string, batchId?: string): Promise<SubmitClaim> {
    const keys = [lock.jobKey, lockKeyOf(lock.jobKey)];
    if (batchId !== undefined)
      keys.push(this.#batches.meta(batchId), this.#batches.parked(batchId));
    const answer = await CLAIM_SUBMIT.run(this.#redis, keys, [lock.token, data, lock.jobId]);
    if (answer === 0) throw new LockLostError(lock.jobId, 'recording its submit intent');
    return answer === 1 ? 'granted' : answer === 4 ? 'paused' : 'cancelled';
  }

  /**
   * Records a completion settled before BullMQ records it (`COMPLETION_FIELD`); throws
   * `LockLostError` when the lock is lost.
   */
  async markCompleted(lock: JobLock, replays: number, result: unknown): Promise<void> {
    await this.#write(
      lock,
      [COMPLETION_FIELD, JSON.stringify({ replays, result })],
      'recording its completion',
    );
  }

  /** The completion, cancel and dead letter recorded for the job, read together (one `MULTI`). */
  async ending(jobKey: string, jobId: string): Promise<RecordedEnding> {
    const replies = await this.#redis
      .multi()
      .hmget(jobKey, COMPLETION_FIELD, CANCELLED_FIELD)
      .hget(this.#deadLetters, jobId)
      .exec();
    if (!replies) throw new Error('the job ending read was aborted');
    for (const [error] of replies) if (error) throw error;
    const [completion, cancelled] = (replies[0]?.[1] ?? []) as Array<string | null>;
    const entry = replies[1]?.[1] as string | null;
    return {
      ...(completion ? { completed: JSON.parse(completion) as RecordedEnding['completed'] } : {}),
      ...(cancelled ? { cancelled: JSON.parse(cancelled) as JobCancelled } : {}),
      ...(entry ? { deadLetter: JSON.parse(entry) as DeadLetter } : {}),
    };
  }

  /** The job data as stored, and whether BullMQ recorded the job's end; `undefined`: no job. */
  async read(jobKey: string): Promise<{ data: string; finished: boolean } | undefined> {
    const [data, finishedOn] = await this.#redis.hmget(jobKey, 'data', 'finishedOn');
    return data === null || data === undefined ? undefined : { data, finished: !!finishedOn };
  }

  /**
   * Replaces the job data if it is still `expected` and the job has not finished (no lock:
   * for a worker handing over what it knows at start-up). False when it changed meanwhile.
   */
  async replace(jobKey: string, expected: string, data: string): Promise<boolean> {
    return (await REPLACE.run(this.#redis, [jobKey], [expected, data])) === 1;
  }

  async #write(lock: JobLock, fields: string[], what: string): Promise<void> {
    const written = await WRITE.run(
      this.#redis,
      [lock.jobKey, lockKeyOf(lock.jobKey)],
      [lock.token, ...fields],
    );
    if (written !== 1) throw new LockLostError(lock.jobId, what);
  }
}
