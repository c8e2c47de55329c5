import { atelierKeys, type DeadLetter } from '@atelier/shared';
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

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#deadLetters = atelierKeys(prefix).deadLetters.entries;
  }

  /** Saves the job data; throws `LockLostError` when the lock is lost. */
  async save(lock: JobLock, data: string): Promise<void> {
    await this.#write(lock, ['data', data], 'saving its data');
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

  /** The completion and the dead letter recorded for the job, read together (one `MULTI`). */
  async ending(jobKey: string, jobId: string): Promise<RecordedEnding> {
    const replies = await this.#redis
      .multi()
      .hget(jobKey, COMPLETION_FIELD)
      .hget(this.#deadLetters, jobId)
      .exec();
    if (!replies) throw new Error('the job ending read was aborted');
    for (const [error] of replies) if (error) throw error;
    const completion = replies[0]?.[1] as string | null;
    const entry = replies[1]?.[1] as string | null;
    return {
      ...(completion ? { completed: JSON.parse(completion) as RecordedEnding['completed'] } : {}),
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
