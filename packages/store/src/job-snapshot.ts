import {
  type AnyJobData,
  type AnyJobResult,
  atelierKeys,
  type DeadLetter,
  type JobCancelled,
} from '@atelier/shared';
import { CANCELLED_FIELD } from './job-fence.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

/** A job's state in BullMQ's words, as BullMQ 6's own `getState` script names it. */
export type BullmqJobState =
  | 'completed'
  | 'failed'
  | 'delayed'
  | 'prioritized'
  | 'active'
  | 'waiting'
  | 'waiting-children'
  | 'unknown';

/** What a status answer needs of a BullMQ job hash. */
export interface JobRecord {
  /** The job data, read as BullMQ reads it (`{}` when the hash holds none). */
  data: AnyJobData;
  /** What the processor returned; present once BullMQ recorded the completion. */
  returnvalue?: AnyJobResult;
  /** Present once BullMQ recorded a failure (the last one). */
  failedReason?: string;
  attemptsMade: number;
  /** Present once a cancel ended the job unpaid (possibly before BullMQ recorded its end). */
  cancelled?: JobCancelled;
}

/**
 * Everything one status answer depends on, read by one script: Redis runs it atomically, so no
 * write (a completion, a failure, a dead letter filed) falls between its parts.
 */
export interface JobSnapshotView {
  state: BullmqJobState;
  /** The job hash; `undefined` when there is none (never added, or removed by retention). */
  job: JobRecord | undefined;
  /** The job's dead letter, if it has one. */
  deadLetter: DeadLetter | undefined;
}

/** Names a queue's keys the way BullMQ does: a BullMQ `Queue` (its own `toKey`) will do. */
export interface BullmqQueueKeys {
  toKey(type: string): string;
}

/** BullMQ's keys, in the order of its `getState` script's KEYS (BullMQ 6). */
const STATE_KEYS = [
  'completed',
  'failed',
  'delayed',
  'active',
  'wait',
  'paused',
  'waiting-children',
  'prioritized',
] as const;

/**
 * The state checks are BullMQ 6's `getStateV2-8.lua`, line for line (same keys, same order:
 * a job in two places reads as BullMQ would say); then the job hash's fields and the dead
 * letter. `LPOS` needs Redis 6.0.6 or newer, as BullMQ's V2 script does.
 * KEYS: completed, failed, delayed, active, wait, paused, waiting-children, prioritized (as
 * BullMQ's), job hash, dead-letter entries. ARGV: job id.
 * Returns {state, job hash exists, [data, returnvalue, failedReason, atm, attemptsMade,
 * cancelled], entry}.
 */
const READ = new LuaScript(`
local id = ARGV[1]
local function state()
  if redis.call('ZSCORE', KEYS[1], id) then return 'completed' end
  if redis.call('ZSCORE', KEYS[2], id) then return 'failed' end
  if redis.call('ZSCORE', KEYS[3], id) then return 'delayed' end
  if redis.call('ZSCORE', KEYS[8], id) then return 'prioritized' end
  if redis.call('LPOS', KEYS[4], id) then return 'active' end
  if redis.call('LPOS', KEYS[5], id) then return 'waiting' end
  if redis.call('LPOS', KEYS[6], id) then return 'waiting' end
  if redis.call('ZSCORE', KEYS[7], id) then return 'waiting-children' end
  return 'unknown'
end
return {
  state(),
  redis.call('EXISTS', KEYS[9]),
  redis.call('HMGET', KEYS[9], 'data', 'returnvalue', 'failedReason', 'atm', 'attemptsMade',
    '${CANCELLED_FIELD}'),
  redis.call('HGET', KEYS[10], id)
}
`);

type RawSnapshot = [
  BullmqJobState,
  number,
  [string | null, string | null, string | null, string | null, string | null, string | null],
  string | null,
];

/**
 * Reads a job for a status answer in one script: its BullMQ state (derived exactly as BullMQ's
 * `getState` does), its hash (with its cancel record) and its dead letter. Anything else an
 * answer comes to depend on belongs in this script too — one more key in KEYS — never in a
 * second call: a job finishing between two reads would answer with half of each.
 */
export class JobSnapshot {
  readonly #redis: RedisClient;
  readonly #deadLetters: ReturnType<typeof atelierKeys>['deadLetters'];

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#deadLetters = atelierKeys(prefix).deadLetters;
  }

  /** The job `id` of `queue` (a BullMQ queue under the same prefix) as one snapshot. */
  async read(queue: BullmqQueueKeys, id: string): Promise<JobSnapshotView> {
    const keys = [...STATE_KEYS.map((type) => queue.toKey(type)), queue.toKey(id)];
    const [state, exists, fields, entry] = (await READ.run(
      this.#redis,
      [...keys, this.#deadLetters.entries],
      [id],
    )) as RawSnapshot;
    return {
      state,
      job: exists === 1 ? jobRecord(fields) : undefined,
      deadLetter: entry ? (JSON.parse(entry) as DeadLetter) : undefined,
    };
  }

  /**
   * Whether the job or its dead letter exists (the job may be gone while its dead letter is
   * kept), both read in one `MULTI`.
   */
  async known(queue: BullmqQueueKeys, id: string): Promise<boolean> {
    const replies = await this.#redis
      .multi()
      .exists(queue.toKey(id))
      .hexists(this.#deadLetters.entries, id)
      .exec();
    if (!replies) throw new Error('the job look-up transaction was aborted');
    for (const [error] of replies) if (error) throw error;
    return replies.some(([, found]) => found === 1);
  }
}

function jobRecord([
  data,
  returnvalue,
  failedReason,
  atm,
  attemptsMade,
  cancelled,
]: RawSnapshot[2]): JobRecord {
  const record: JobRecord = {
    // As BullMQ reads a job: no data is `{}`, unreadable data throws.
    data: JSON.parse(data ?? '{}') as AnyJobData,
    // BullMQ 6 counts in `atm`; `attemptsMade` is an older job's (BullMQ reads it first).
    attemptsMade: Number(attemptsMade ?? atm ?? 0),
  };
  // As BullMQ reads a job: an unreadable return value counts as none.
  const result = parseJson(returnvalue);
  if (result !== undefined) record.returnvalue = result as AnyJobResult;
  if (failedReason !== null) record.failedReason = failedReason;
  const outcome = parseJson(cancelled);
  if (outcome !== undefined) record.cancelled = outcome as JobCancelled;
  return record;
}

/** `undefined` for none or unreadable JSON (BullMQ reads a return value so). */
function parseJson(json: string | null): unknown {
  if (json === null) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
