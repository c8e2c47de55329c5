import { type AtelierKeys, atelierKeys, batchItemJobId, type Logger } from '@atelier/shared';
import { Job, type Queue } from 'bullmq';
import { announceBatchCompleted } from './announce-batch-completed.ts';
import type { BatchInfo, BatchLedger, BatchState } from './batch-ledger.ts';
import { BATCH_LUA } from './batch-scripts.ts';
import type { CallbackScheduler } from './callback-scheduler.ts';
import type { JobCancellation } from './job-cancellation.ts';
import { lockKeyOf } from './job-fence.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';
import { RedisLease } from './redis-lease.ts';

/**
 * KEYS: record, paused set. ARGV: now, id. An open batch is paused (and enters the paused set:
 * fair share admits none of its waiting items); answers the state (or `missing`).
 */
const PAUSE = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if state ~= 'open' then return state end
redis.call('HSET', KEYS[1], 'state', 'paused', 'pausedAt', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 'paused'
`);

/**
 * KEYS: record, steering set, paused set. ARGV: id. A paused batch is open again (out of the
 * paused set); an open one is put in the steering set (its parked items are to be released).
 * Answers the state (or `missing`).
 */
const RESUME = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if state == 'paused' then
  redis.call('HSET', KEYS[1], 'state', 'open')
  redis.call('HDEL', KEYS[1], 'pausedAt')
  redis.call('SREM', KEYS[3], ARGV[1])
  state = 'open'
end
if state == 'open' then redis.call('SADD', KEYS[2], ARGV[1]) end
return state
`);

/**
 * An open or paused batch becomes `cancelling` (no item may start a submit from now on: the
 * submit intent's script reads this state) and enters the steering set, whose tending ends its
 * waiting items (a paused one leaves the paused set: fair share lets its parked items through,
 * to find them ended); one with nothing pending is `cancelled` at once. Answers {state,
 * justFinished}. KEYS: record, items, open set, gone marker, steering set, paused set. ARGV:
 * now, ttl, id, goneTtl.
 */
const CANCEL = new LuaScript(`${BATCH_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', 0} end
if state == 'open' or state == 'paused' then
  redis.call('HSET', KEYS[1], 'state', 'cancelling', 'cancelledAt', ARGV[1])
  redis.call('HDEL', KEYS[1], 'pausedAt')
  redis.call('SREM', KEYS[6], ARGV[3])
  state = 'cancelling'
  if finishIfDone(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[1], ARGV[2], ARGV[4]) then
    return {'cancelled', 1}
  end
end
if state == 'cancelling' then redis.call('SADD', KEYS[5], ARGV[3]) end
return {state, 0}
`);

/**
 * Drops a batch from the steering set once it needs no more tending: finished (its parked set
 * and the paused set go too), paused (a resume adds it again), or open with nothing parked.
 * KEYS: steering set, record, parked set, paused set. ARGV: id. Returns 1 when dropped.
 */
const FORGET = new LuaScript(`${BATCH_LUA}
local state = redis.call('HGET', KEYS[2], 'state')
if state == 'cancelling' then return 0 end
if state == 'open' and redis.call('SCARD', KEYS[3]) > 0 then return 0 end
if not unfinished(state) then
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[4], ARGV[1])
end
redis.call('SREM', KEYS[1], ARGV[1])
return 1
`);

/**
 * A parked job that could not be promoted goes back in the parked set if it may still be
 * waiting for the resume: running (on its way to the delayed set) or delayed. KEYS: parked
 * set, job's lock, delayed set. ARGV: job id. Returns 1 when kept.
 */
const KEEP_PARKED = new LuaScript(`
if redis.call('EXISTS', KEYS[2]) == 0 and not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
`);

/** Items per script call of a cancel's pass (the script checks two keys of each). */
const CHUNK = 250;
/** Parked job ids released per round. */
const RELEASE_PAGE = 250;
/** A tending process that dies lets go of a batch this much later. */
const LEASE_MS = 10_000;

/** What a pause, resume or cancel came to: the batch as it is now (`undefined`: none). */
export interface SteerResult {
  batch: BatchInfo | undefined;
  /** The state the request found or made (`missing`: no such batch). */
  state: BatchState | 'missing';
}

export interface BatchSteeringOptions {
  redis: RedisClient;
  prefix: string;
  ledger: BatchLedger;
  cancellation: JobCancellation;
  /** The drawing queue (batch items are drawings). */
  queue: Queue;
  /** Where `batch.completed` goes when tending a cancel finishes a batch. */
  callbacks: CallbackScheduler;
  logger: Logger;
}

/**
 * Pause, resume and cancel of bulk batches, and the tending they leave: a cancel's pass over
 * the batch that ends every waiting item that has not submitted (a chunk per script), a
 * resume's release of the items parked while it was paused. The requests are single scripts
 * (idempotent, safe from any number of API replicas); the tending is done by whoever gets the
 * batch's lease — the API process right after the request, and each worker's keeper for what
 * is left (a crash, items that were running) — and repeated until nothing is left.
 */
export class BatchSteering {
  readonly #o: BatchSteeringOptions;
  readonly #keys: AtelierKeys['batch'];

  constructor(options: BatchSteeringOptions) {
    this.#o = options;
    this.#keys = atelierKeys(options.prefix).batch;
  }

  /** Pauses an open batch: its items submit nothing new until it is resumed. */
  async pause(id: string): Promise<SteerResult> {
    const keys = [this.#keys.meta(id), this.#keys.paused];
    const state = (await PAUSE.run(this.#o.redis, keys, [Date.now(), id])) as
      | BatchState
      | 'missing';
    return { state, batch: await this.#o.ledger.get(id) };
  }

  /** Resumes a paused batch; its parked items are released by `tend`. */
  async resume(id: string): Promise<SteerResult> {
    const k = this.#keys;
    const state = (await RESUME.run(this.#o.redis, [k.meta(id), k.steering, k.paused], [id])) as
      | BatchState
      | 'missing';
    return { state, batch: await this.#o.ledger.get(id) };
  }

  /**
   * Cancels a batch: from this answer on no item of it starts a submit. Its waiting items are
   * ended by `tend`; a batch with nothing pending is `cancelled` (and announced) at once.
   */
  async cancel(id: string): Promise<SteerResult> {
    const k = this.#keys;
    const { finishedTtlMs, goneTtlMs } = this.#o.ledger.retention;
    const now = Date.now();
    const [state, justFinished] = (await CANCEL.run(
      this.#o.redis,
      [k.meta(id), k.items(id), k.open, k.gone(id), k.steering, k.paused],
      [now, finishedTtlMs, id, goneTtlMs],
    )) as [BatchState | 'missing', number];
    if (justFinished === 1) await this.#announce(id, now);
    return { state, batch: await this.#o.ledger.get(id) };
  }

  /** Ids of batches with tending left. */
  async pending(): Promise<string[]> {
    return this.#o.redis.smembers(this.#keys.steering);
  }

  /**
   * One round of tending for a batch, under its lease (`undefined` when another process has
   * it): a cancelling batch's waiting items are ended, an open batch's parked items released;
   * a batch that needs nothing more leaves the steering set (`done`). `stop` is asked between
   * chunks (shutdown).
   */
  async tend(
    id: string,
    stop: () => boolean = () => false,
  ): Promise<{ ended: number; released: number; done: boolean } | undefined> {
    const { redis } = this.#o;
    const lease = await RedisLease.acquire(redis, this.#keys.steeringLease(id), LEASE_MS);
    if (!lease) return undefined;
    try {
      const batch = await this.#o.ledger.get(id);
      let ended = 0;
      let released = 0;
      if (batch?.state === 'cancelling') ended = await this.#endWaiting(batch, lease, stop);
      else if (batch?.state === 'open') released = await this.#release(id, lease, stop);
      const k = this.#keys;
      const keys = [k.steering, k.meta(id), k.parked(id), k.paused];
      const done = (await FORGET.run(redis, keys, [id])) === 1;
      return { ended, released, done };
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  async #endWaiting(batch: BatchInfo, lease: RedisLease, stop: () => boolean): Promise<number> {
    const { cancellation, queue } = this.#o;
    let ended = 0;
    for (let from = 0; from < batch.total && !stop(); from += CHUNK) {
      if (!(await lease.renew())) break;
      const count = Math.min(CHUNK, batch.total - from);
      const ids = Array.from({ length: count }, (_, i) => batchItemJobId(batch.id, from + i));
      const chunk = await cancellation.endWaitingItems(queue, batch.id, from, ids);
      ended += chunk.ended;
      if (chunk.finishedAt !== undefined) {
        await this.#announce(batch.id, chunk.finishedAt);
        break;
      }
    }
    if (ended > 0) this.#o.logger.info({ batchId: batch.id, ended }, 'cancelled waiting items');
    return ended;
  }

  /**
   * Promotes the parked items of a resumed batch (BullMQ's own promote: delayed → waiting). An
   * item that is not delayed (still on its way there) is kept for the next round.
   */
  async #release(id: string, lease: RedisLease, stop: () => boolean): Promise<number> {
    const { redis } = this.#o;
    const parked = this.#keys.parked(id);
    let released = 0;
    let cursor = '0';
    do {
      if (stop() || !(await lease.renew())) break;
      const [next, ids] = await redis.sscan(parked, cursor, 'COUNT', RELEASE_PAGE);
      cursor = next;
      const promoted = await Promise.all(ids.map((jobId) => this.#promote(parked, jobId)));
      released += promoted.filter(Boolean).length;
    } while (cursor !== '0');
    return released;
  }

  async #promote(parked: string, jobId: string): Promise<boolean> {
    const { redis, queue } = this.#o;
    await redis.srem(parked, jobId);
    try {
      await new Job(queue, 'drawing', undefined, undefined, jobId).promote();
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code !== -3) {
        await redis.sadd(parked, jobId);
        throw error;
      }
      const jobKey = queue.toKey(jobId);
      await KEEP_PARKED.run(redis, [parked, lockKeyOf(jobKey), queue.toKey('delayed')], [jobId]);
      return false;
    }
  }

  async #announce(id: string, finishedAt: number): Promise<void> {
    const { callbacks, ledger, logger } = this.#o;
    await announceBatchCompleted(id, { callbacks, ledger, logger }, finishedAt);
  }
}
