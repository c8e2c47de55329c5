import { type AtelierKeys, atelierKeys } from '@atelier/shared';
import { batchScripts } from './batch-scripts.ts';
import { BatchUpkeep } from './batch-upkeep.ts';
import { type JobLock, lockKeyOf } from './job-fence.ts';
import { LockLostError } from './lock-lost-error.ts';
import type { RedisClient } from './redis.ts';

export type BatchState = 'open' | 'completed';
export type BatchItemState = 'completed' | 'dead';

export interface BatchInfo {
  id: string;
  total: number;
  completed: number;
  dead: number;
  pending: number;
  state: BatchState;
  createdAt: number;
  /** Items enqueued so far (equals `total` once the batch is fully accepted). */
  enqueued: number;
  callbackUrl?: string;
  completedAt?: number;
}

/** One line of a batch's results, in input order. */
export interface BatchItemResult {
  index: number;
  jobId: string;
  state: BatchItemState | 'pending';
  images?: string[];
  taskId?: string;
  code?: string;
  message?: string;
}

/**
 * Exact progress and results of bulk batches, shared by the producer (create, read) and
 * workers (settle items). Keys live under the deployment prefix.
 */
export class BatchLedger {
  readonly #redis: RedisClient;
  readonly #keys: AtelierKeys['batch'];
  readonly #finishedTtlMs: number;
  readonly #goneTtlMs: number;
  readonly #upkeep: BatchUpkeep;

  /**
   * `finishedAgeSec`: a batch's record and result lines expire this long after it finishes
   * (`ATELIER_KEEP_BATCH_AGE_SEC`); a replay that reopens it keeps it again. Unset: kept.
   * `keyReuseBlockedSec`: after a batch named by an idempotency key expires, that key is
   * refused this much longer (its item ids may still name retained jobs and dead letters).
   */
  constructor(
    redis: RedisClient,
    prefix: string,
    options: { finishedAgeSec?: number; keyReuseBlockedSec?: number } = {},
  ) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix).batch;
    this.#finishedTtlMs = (options.finishedAgeSec ?? 0) * 1000;
    this.#goneTtlMs = (options.keyReuseBlockedSec ?? 0) * 1000;
    this.#upkeep = new BatchUpkeep(redis, this.#keys, {
      finishedTtlMs: this.#finishedTtlMs,
      goneTtlMs: this.#goneTtlMs,
    });
  }

  /**
   * Creates the batch record (before its items are enqueued): `exists` if it already exists,
   * `expired` if a batch of this id finished and was removed by retention not long ago.
   * `keyed`: the id comes from an idempotency key (and could be asked for again).
   * `contentHash`: what the batch is made of; `conflict` when the batch exists with another
   * (a batch recorded without one is `exists`).
   */
  async create(
    id: string,
    total: number,
    options: {
      callbackUrl?: string;
      createdAt?: number;
      keyed?: boolean;
      contentHash?: string;
    } = {},
  ): Promise<'created' | 'exists' | 'expired' | 'conflict'> {
    const createdAt = options.createdAt ?? Date.now();
    const fields: Record<string, string> = {
      total: String(total),
      completed: '0',
      dead: '0',
      enqueued: '0',
      state: 'open',
      createdAt: String(createdAt),
    };
    if (options.callbackUrl) fields.callbackUrl = options.callbackUrl;
    if (options.keyed) fields.keyed = '1';
    if (options.contentHash) fields.contentHash = options.contentHash;
    const k = this.#keys;
    const created = await batchScripts.create.run(
      this.#redis,
      [k.meta(id), k.index, k.open, k.gone(id)],
      [id, String(createdAt), options.contentHash ?? '', ...Object.entries(fields).flat()],
    );
    if (created === -2) return 'conflict';
    return created === 1 ? 'created' : created === 0 ? 'exists' : 'expired';
  }

  /**
   * Records that `count` more items are in the queue. `finishedAt` is set when that finished
   * the batch (every item had settled already): the caller announces it.
   */
  async markEnqueued(id: string, count: number): Promise<{ finishedAt?: number }> {
    const now = Date.now();
    const result = await batchScripts.enqueued.run(this.#redis, this.#finishingKeys(id), [
      String(count),
      String(now),
      String(this.#finishedTtlMs),
      id,
      String(this.#goneTtlMs),
    ]);
    return result === 2 ? { finishedAt: now } : {};
  }

  /**
   * Records an item's final state and result line. Idempotent per (item, state); a completed
   * item stays completed. `batchCompleted` is true for exactly one call: the one that settled
   * the last item (then `finishedAt` is the completion's time). `finished` says the batch is
   * completed now, whoever completed it (a repeated settle uses it to announce a completion
   * again). With `fence`, only while the settling worker holds the job's lock (else
   * `LockLostError`), recording the job's completion in its hash in the same script when
   * `fence.completion` is given.
   */
  async settle(
    id: string,
    result: BatchItemResult & { state: BatchItemState },
    fence?: { lock: JobLock; completion?: { replays: number; result: unknown } },
  ): Promise<{
    changed: boolean;
    batchCompleted: boolean;
    finished: boolean;
    finishedAt?: number;
  }> {
    const value = `${result.state === 'completed' ? 'c' : 'd'}|${JSON.stringify(result)}`;
    const now = Date.now();
    const args = [
      String(result.index),
      value,
      String(now),
      String(this.#finishedTtlMs),
      id,
      String(this.#goneTtlMs),
    ];
    const reply = (
      fence
        ? await batchScripts.fencedSettle.run(
            this.#redis,
            [...this.#finishingKeys(id), fence.lock.jobKey, lockKeyOf(fence.lock.jobKey)],
            [...args, fence.lock.token, fence.completion ? JSON.stringify(fence.completion) : ''],
          )
        : await batchScripts.settle.run(this.#redis, this.#finishingKeys(id), args)
    ) as [number, number, number];
    if (reply[0] === -1)
      throw new LockLostError(fence?.lock.jobId ?? '', 'settling its batch item');
    const batchCompleted = reply[1] === 1;
    return {
      changed: reply[0] === 1,
      batchCompleted,
      finished: reply[2] === 1,
      ...(batchCompleted ? { finishedAt: now } : {}),
    };
  }

  /** A dead item is being replayed: back to pending; the batch reopens. */
  async reopen(id: string, index: number): Promise<boolean> {
    const k = this.#keys;
    const result = await batchScripts.reopen.run(
      this.#redis,
      [k.meta(id), k.items(id), k.open],
      [String(index), id],
    );
    return result === 1;
  }

  async get(id: string): Promise<BatchInfo | undefined> {
    return batchInfo(id, await this.#redis.hgetall(this.#keys.meta(id)));
  }

  /**
   * The batch record and the result lines of a range of item indexes (missing = still
   * pending), read in one `MULTI`: the lines are those of the record read with them (a batch
   * that expires meanwhile is gone from both). `undefined` when there is no such batch.
   */
  async page(
    id: string,
    fromIndex: number,
    count: number,
  ): Promise<{ batch: BatchInfo; lines: Array<BatchItemResult | undefined> } | undefined> {
    const fields = Array.from({ length: Math.max(0, count) }, (_, i) => String(fromIndex + i));
    const tx = this.#redis.multi().hgetall(this.#keys.meta(id));
    if (fields.length > 0) tx.hmget(this.#keys.items(id), ...fields);
    const replies = await tx.exec();
    if (!replies) throw new Error('the batch read transaction was aborted');
    for (const [error] of replies) if (error) throw error;
    const batch = batchInfo(id, replies[0]?.[1] as Record<string, string>);
    if (!batch) return undefined;
    const values = (replies[1]?.[1] ?? []) as Array<string | null>;
    return { batch, lines: values.map((v) => (v ? resultLine(v) : undefined)) };
  }

  /** Settled result lines for a range of item indexes (missing = still pending). */
  async results(
    id: string,
    fromIndex: number,
    count: number,
  ): Promise<Array<BatchItemResult | undefined>> {
    if (count <= 0) return [];
    const fields = Array.from({ length: count }, (_, i) => String(fromIndex + i));
    const values = await this.#redis.hmget(this.#keys.items(id), ...fields);
    return values.map((v) => (v ? resultLine(v) : undefined));
  }

  /** Batch ids, newest first. */
  async list(limit = 50, offset = 0): Promise<string[]> {
    return this.#redis.zrevrange(this.#keys.index, offset, offset + limit - 1);
  }

  /** How many batches are not finished yet: one `SCARD` of the set the ledger's scripts keep. */
  async openCount(): Promise<number> {
    return this.#redis.scard(this.#keys.open);
  }

  /** Notes that the completion at `completedAt` was announced (no-op if it was reopened since). */
  async markAnnounced(id: string, completedAt: number): Promise<void> {
    await batchScripts.markAnnounced.run(this.#redis, [this.#keys.meta(id)], [String(completedAt)]);
  }

  /** Whether the completion at `completedAt` was announced already. */
  async wasAnnounced(id: string, completedAt: number): Promise<boolean> {
    return (await this.#redis.hget(this.#keys.meta(id), 'announced')) === String(completedAt);
  }

  /**
   * Upkeep, by one process at a time (a lease; `undefined` if another holds it): once per
   * deployment, enters batches from before the open set into it and gives finished ones the
   * retention TTL they lack; drops open-set members that are not open (written by an older
   * version during an upgrade); drops index entries of batches created before `createdBefore`
   * whose record expired.
   */
  upkeep(createdBefore: number): Promise<{ pruned: number; repaired: number } | undefined> {
    return this.#upkeep.run(createdBefore);
  }

  /**
   * Removes the index entries of batches that expired (created before `createdBefore`, record
   * gone). Open batches and batches still within their retention are kept. Returns how many.
   */
  pruneIndex(createdBefore: number, pageSize = 500): Promise<number> {
    return this.#upkeep.pruneIndex(createdBefore, pageSize);
  }

  /** The keys of the scripts that can finish a batch: record, items, open set, marker. */
  #finishingKeys(id: string): string[] {
    const k = this.#keys;
    return [k.meta(id), k.items(id), k.open, k.gone(id)];
  }
}

/** A batch record from its hash (`undefined`: no record). */
function batchInfo(id: string, raw: Record<string, string>): BatchInfo | undefined {
  if (!raw.total) return undefined;
  const total = Number(raw.total);
  const completed = Number(raw.completed ?? 0);
  const dead = Number(raw.dead ?? 0);
  return {
    id,
    total,
    completed,
    dead,
    pending: total - completed - dead,
    state: raw.state === 'completed' ? 'completed' : 'open',
    createdAt: Number(raw.createdAt),
    enqueued: Number(raw.enqueued ?? 0),
    ...(raw.callbackUrl ? { callbackUrl: raw.callbackUrl } : {}),
    ...(raw.completedAt ? { completedAt: Number(raw.completedAt) } : {}),
  };
}

/** An item's stored line: `<c|d>|<json>`. */
function resultLine(value: string): BatchItemResult {
  return JSON.parse(value.slice(2)) as BatchItemResult;
}
