import { type ArchivedImage, type AtelierKeys, atelierKeys, DEFAULT_TENANT } from '@atelier/shared';
import { batchScripts } from './batch-scripts.ts';
import { BatchUpkeep } from './batch-upkeep.ts';
import { type JobLock, lockKeyOf } from './job-fence.ts';
import { LockLostError } from './lock-lost-error.ts';
import type { RedisClient } from './redis.ts';

/**
 * Where a batch is: `open` (items run), `paused` (no new submits; tasks already submitted go
 * on), `cancelling` (no new submits ever; tasks already submitted finish); then, once every
 * queued item is completed, dead or cancelled: `completed` — or `incomplete` when the batch's
 * enqueue was cut off and some items were never queued (`notQueued`), or `cancelled` once
 * cancelled and nothing is left in flight.
 */
export type BatchState =
  | 'open'
  | 'paused'
  | 'cancelling'
  | 'completed'
  | 'incomplete'
  | 'cancelled';
/** How an item ended: `cancelled` is stopped before it was submitted (nothing paid). */
export type BatchItemState = 'completed' | 'dead' | 'cancelled';

/** Whether the batch is over (`completed`, `incomplete` or `cancelled`). */
export function isBatchFinished(state: BatchState): boolean {
  return state === 'completed' || state === 'incomplete' || state === 'cancelled';
}

/** Item indexes `first` to `last`, both included. */
export interface IndexRange {
  first: number;
  last: number;
}

export interface BatchInfo {
  id: string;
  total: number;
  completed: number;
  dead: number;
  cancelled: number;
  /**
   * Queued items not settled yet: `total - completed - dead - cancelled` (less the items never
   * queued), from the same read.
   */
  pending: number;
  state: BatchState;
  createdAt: number;
  /** Items enqueued so far (equals `total` once the batch is fully accepted). */
  enqueued: number;
  /** Items never queued: the batch's enqueue was cut off (no idempotency key to resume it). */
  notQueued?: IndexRange[];
  callbackUrl?: string;
  /** When the batch finished (`completed`, `incomplete` or `cancelled`). */
  completedAt?: number;
  /** When a pause that still holds was asked for. */
  pausedAt?: number;
  /** When a cancel was asked for. */
  cancelledAt?: number;
  /** The tenant whose key created it (`default` for a batch recorded before tenants). */
  tenant: string;
}

/** What a batch's images came to in its tenant's usage (`TenantUsage`). */
export interface BatchUsage {
  /** The UTC day they were counted on. */
  day: string;
  /** Images reserved for the whole batch when it was created. */
  reserved: number;
  /** Images of the items counted as queued so far. */
  enqueued: number;
}

/** One line of a batch's results, in input order. */
export interface BatchItemResult {
  index: number;
  jobId: string;
  state: BatchItemState | 'pending' | 'not_queued';
  images?: string[];
  /** A completed drawing's archived images (`result.archived`), with an image store. */
  archived?: ArchivedImage[];
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
  /** How long a finished batch is kept, and its key refused after that (ms; 0: no expiry). */
  readonly retention: { finishedTtlMs: number; goneTtlMs: number };

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
    this.retention = { finishedTtlMs: this.#finishedTtlMs, goneTtlMs: this.#goneTtlMs };
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
      tenant?: string;
      /** The images reserved for the batch on that day (its tenant's usage). */
      usage?: { day: string; reserved: number };
    } = {},
  ): Promise<'created' | 'exists' | 'expired' | 'conflict'> {
    const createdAt = options.createdAt ?? Date.now();
    const fields: Record<string, string> = {
      total: String(total),
      completed: '0',
      dead: '0',
      cancelled: '0',
      enqueued: '0',
      sentTo: '0',
      state: 'open',
      createdAt: String(createdAt),
      progressAt: String(createdAt),
    };
    if (options.callbackUrl) fields.callbackUrl = options.callbackUrl;
    if (options.keyed) fields.keyed = '1';
    if (options.contentHash) fields.contentHash = options.contentHash;
    if (options.tenant) fields.tenant = options.tenant;
    if (options.usage) {
      fields.usageDay = options.usage.day;
      fields.reservedImages = String(options.usage.reserved);
      fields.enqueuedImages = '0';
    }
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
   * Records that `count` more items are in the queue (`images`: what they draw, for the
   * batch's usage). `finishedAt` is set when that finished the batch (every item had settled
   * already): the caller announces it. `closed`: the batch's enqueue was closed (`cut`)
   * meanwhile; nothing was counted.
   */
  async markEnqueued(
    id: string,
    count: number,
    images = 0,
  ): Promise<{ finishedAt?: number; closed?: true }> {
    const now = Date.now();
    const result = await batchScripts.enqueued.run(this.#redis, this.#finishingKeys(id), [
      String(count),
      String(now),
      String(this.#finishedTtlMs),
      id,
      String(this.#goneTtlMs),
      String(images),
    ]);
    if (result === -1) return { closed: true };
    return result === 2 ? { finishedAt: now } : {};
  }

  /**
   * Before the holder of the batch's enqueue lease (`token`) sends the items below index
   * `upTo`: notes how far items were sent and renews the lease for `leaseMs`. False when the
   * lease is not held any more or the enqueue was closed: the enqueuer must stop.
   */
  async sending(id: string, token: string, upTo: number, leaseMs: number): Promise<boolean> {
    const keys = [this.#keys.meta(id), this.#keys.enqueueLease(id)];
    const result = await batchScripts.sending.run(this.#redis, keys, [
      token,
      String(upTo),
      String(Date.now()),
      String(leaseMs),
    ]);
    return result === 1;
  }

  /**
   * The items an enqueuer sent but did not count, `[from, to)` (`undefined` for a batch that
   * is not open, has an idempotency key, was closed, or was recorded before this was kept).
   */
  async uncounted(id: string): Promise<{ from: number; to: number } | undefined> {
    const [state, keyed, cutAt, enqueued, sentTo] = await this.#redis.hmget(
      this.#keys.meta(id),
      'state',
      'keyed',
      'cutAt',
      'enqueued',
      'sentTo',
    );
    if (!isUnfinished(state) || keyed === '1' || cutAt !== null || sentTo === null) {
      return undefined;
    }
    const from = Number(enqueued ?? 0);
    return { from, to: Math.max(from, Number(sentTo)) };
  }

  /**
   * Closes the enqueue of a batch without an idempotency key whose enqueuer stopped part-way,
   * by the holder of its enqueue lease (`token`): items sent but not counted are queued when
   * their job exists (`jobKeys`: the BullMQ job hash of each item from `from` on, covering
   * `uncounted`), every other item from the first uncounted one is listed in `notQueued`.
   * The batch then finishes — `incomplete` — once its queued items settled (`finishedAt` when
   * that is now: the caller announces it). `moved`: the uncounted window is not the one
   * `jobKeys` cover (read it again); `lost`: the lease is not held; `none`: nothing to close.
   */
  async cut(
    id: string,
    token: string,
    window: { from: number; jobKeys: string[] },
  ): Promise<{ status: 'closed' | 'none' | 'lost' | 'moved'; finishedAt?: number }> {
    const now = Date.now();
    const [status, finished] = (await batchScripts.cut.run(
      this.#redis,
      [...this.#finishingKeys(id), this.#keys.enqueueLease(id), ...window.jobKeys],
      [
        token,
        String(now),
        String(this.#finishedTtlMs),
        id,
        String(this.#goneTtlMs),
        String(window.from),
      ],
    )) as [number, number];
    if (status === -1) return { status: 'lost' };
    if (status === -2) return { status: 'moved' };
    if (status === 0) return { status: 'none' };
    return finished === 1 ? { status: 'closed', finishedAt: now } : { status: 'closed' };
  }

  /**
   * Open batches without an idempotency key, not fully enqueued and not closed, whose enqueue
   * made no progress since `idleSince` (epoch ms): their enqueuer may have died. Candidates
   * only — `cut` decides, under the enqueue lease.
   */
  async stalled(idleSince: number): Promise<string[]> {
    const stalled: string[] = [];
    let cursor = '0';
    do {
      const [next, ids] = await this.#redis.sscan(this.#keys.open, cursor, 'COUNT', 500);
      cursor = next;
      if (ids.length === 0) continue;
      const reads = this.#redis.pipeline();
      for (const id of ids) {
        reads.hmget(
          this.#keys.meta(id),
          'state',
          'keyed',
          'cutAt',
          'total',
          'enqueued',
          'progressAt',
        );
      }
      const replies = (await reads.exec()) ?? [];
      replies.forEach(([error, value], i) => {
        if (error) throw error;
        const [state, keyed, cutAt, total, enqueued, progressAt] = value as Array<string | null>;
        const idle = Number(progressAt ?? Number.POSITIVE_INFINITY) < idleSince;
        if (isUnfinished(state) && keyed !== '1' && cutAt === null && idle) {
          if (Number(enqueued ?? 0) < Number(total)) stalled.push(ids[i] as string);
        }
      });
    } while (cursor !== '0');
    return stalled;
  }

  /**
   * Records an item's final state and result line. Idempotent per (item, state); a completed
   * item stays completed (a cancelled one is ended by `JobCancellation`, never here).
   * `batchCompleted` is true for exactly one call: the one that settled
   * the last item (then `finishedAt` is the completion's time). `finished` says the batch is
   * completed now, whoever completed it (a repeated settle uses it to announce a completion
   * again). With `fence`, only while the settling worker holds the job's lock (else
   * `LockLostError`), recording the job's completion in its hash in the same script when
   * `fence.completion` is given.
   */
  async settle(
    id: string,
    result: BatchItemResult & { state: 'completed' | 'dead' },
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
   * The batch record with what its images came to in its tenant's usage (`undefined` usage: a
   * batch recorded without a reservation), in one read; `undefined` when there is no batch.
   */
  async withUsage(
    id: string,
  ): Promise<{ batch: BatchInfo; usage: BatchUsage | undefined; cut: boolean } | undefined> {
    const raw = await this.#redis.hgetall(this.#keys.meta(id));
    const batch = batchInfo(id, raw);
    if (!batch) return undefined;
    const usage =
      raw.usageDay === undefined
        ? undefined
        : {
            day: raw.usageDay,
            reserved: Number(raw.reservedImages ?? 0),
            enqueued: Number(raw.enqueuedImages ?? 0),
          };
    return { batch, usage, cut: raw.cutAt !== undefined };
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

const STATES: readonly BatchState[] = [
  'open',
  'paused',
  'cancelling',
  'completed',
  'incomplete',
  'cancelled',
];

/** A batch still running (`open`, `paused`, `cancelling`), by its stored state. */
function isUnfinished(state: string | null | undefined): boolean {
  return state === 'open' || state === 'paused' || state === 'cancelling';
}

/** A batch record from its hash (`undefined`: no record). */
function batchInfo(id: string, raw: Record<string, string>): BatchInfo | undefined {
  if (!raw.total) return undefined;
  const total = Number(raw.total);
  const completed = Number(raw.completed ?? 0);
  const dead = Number(raw.dead ?? 0);
  const cancelled = Number(raw.cancelled ?? 0);
  const notQueued = Number(raw.notQueuedCount ?? 0);
  const state = STATES.find((s) => s === raw.state) ?? 'open';
  return {
    id,
    total,
    completed,
    dead,
    cancelled,
    pending: total - completed - dead - cancelled - notQueued,
    state,
    createdAt: Number(raw.createdAt),
    enqueued: Number(raw.enqueued ?? 0),
    ...(raw.notQueued ? { notQueued: indexRanges(raw.notQueued) } : {}),
    ...(raw.callbackUrl ? { callbackUrl: raw.callbackUrl } : {}),
    ...(raw.completedAt ? { completedAt: Number(raw.completedAt) } : {}),
    ...(raw.pausedAt ? { pausedAt: Number(raw.pausedAt) } : {}),
    ...(raw.cancelledAt ? { cancelledAt: Number(raw.cancelledAt) } : {}),
    tenant: raw.tenant ?? DEFAULT_TENANT,
  };
}

/** `[{first, last}]` as the cut script wrote it (Lua's JSON), with its fields in a fixed order. */
function indexRanges(json: string): IndexRange[] {
  return (JSON.parse(json) as IndexRange[]).map(({ first, last }) => ({ first, last }));
}

/** An item's stored line: `<c|d|x>|<json>`. */
function resultLine(value: string): BatchItemResult {
  return JSON.parse(value.slice(2)) as BatchItemResult;
}
