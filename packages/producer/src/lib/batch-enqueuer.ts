import {
  atelierKeys,
  DEFAULT_PRIORITY,
  DEFAULT_TENANT,
  type DrawingJobData,
  type DrawingLimits,
  drawingRequestSchema,
  type Logger,
  toBullmqPriority,
  ValidationError,
  validate,
} from '@atelier/shared';
import {
  announceBatchCompleted,
  type BatchLedger,
  type CallbackScheduler,
  isBatchFinished,
  type RedisClient,
  RedisLease,
  type Reservation,
} from '@atelier/store';
import type { BatchCloser } from './batch-closer.ts';
import { BatchFingerprint } from './batch-fingerprint.ts';
import { batchIdFor, batchItemIdPrefix, batchItemJobId } from './batch-id.ts';
import { type BatchItem, BatchItemParser, type ItemLabel } from './batch-item-parser.ts';
import type { CallbackPolicy } from './callback-policy.ts';
import { IdempotencyConflictError } from './errors/idempotency-conflict-error.ts';
import { RedisUnavailableError } from './errors/redis-unavailable-error.ts';
import type { FairAdmission } from './fair-admission.ts';
import { ItemSpool } from './item-spool.ts';
import { drawingJobData, jobMeta } from './job-data.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';
import type { UsageReservations } from './usage-reservations.ts';

/** Items of a batch: an array (validated in place) or any (async) iterable (spooled). */
export type BatchItems = readonly unknown[] | Iterable<unknown> | AsyncIterable<unknown>;

export interface BatchOptions {
  /** Receives `batch.completed` once every item is completed or dead. */
  callbackUrl?: string;
  /** Submitting the same key again returns the same batch (and finishes queueing it if needed). */
  idempotencyKey?: string;
  /** Priority of the items (1 first … 1000 last); default `DEFAULT_PRIORITY.batchItem`. */
  priority?: number;
  /** How an item is named in error messages besides `items.<index>` (e.g. `line 7`). */
  itemLabel?: ItemLabel;
  /** Progress while items are queued. */
  onEnqueued?: (enqueued: number, total: number) => void;
}

export interface BatchCreated {
  id: string;
  total: number;
  /** False when the idempotency key named an existing batch. */
  created: boolean;
  /** Images this call counted on its tenant's day (all its items' `num`; 0 when not created). */
  images: number;
}

export interface BatchEnqueuerOptions {
  readonly queues: ProducerQueues;
  readonly ledger: BatchLedger;
  readonly redis: RedisClient;
  readonly guard: RedisGuard;
  readonly callbacks: CallbackPolicy;
  /** Schedules `batch.completed` when the last chunk is counted after every item settled. */
  readonly completions: CallbackScheduler;
  readonly logger: Logger;
  readonly limits: DrawingLimits;
  readonly prefix: string;
  readonly maxItems: number;
  readonly chunkSize: number;
  /** `addBulk` calls that may be in flight at once. */
  readonly chunksInFlight: number;
  /** How long an enqueuer holds a batch before another process may take over (a crash). */
  readonly leaseMs: number;
  /** Closes an unkeyed batch whose enqueue failed part-way. */
  readonly closer: BatchCloser;
  readonly reservations: UsageReservations;
  readonly fair: FairAdmission;
}

/** What a batch is enqueued as: its tenant, and what its items draw in all. */
interface BatchOwner {
  tenant: string;
  images: number;
}

/** One chunk of a batch (`addBulk` of `chunkSize` jobs) fails with `REDIS_UNAVAILABLE` after this. */
const BULK_TIMEOUT_MS = 15_000;

/**
 * Creates a batch: every item is validated (and every callback URL checked) before anything
 * is written; then the ledger record is created, then items go to the drawing queue in
 * chunks (`addBulk`), each chunk counted with `markEnqueued` — the ledger completes a batch
 * only once every item is queued and settled. Memory stays bounded: an array is read in
 * place and only one chunk of jobs exists at a time; any other iterable (a request stream)
 * is validated into a temporary file first, then queued from it.
 *
 * If the process dies part-way, submitting the batch again with the same idempotency key
 * queues the remaining items (ids derive from batch id and index, so nothing is doubled). A
 * batch without a key cannot be resumed: it is closed instead (`BatchCloser`), by this process
 * when its enqueue failed, or by the API's sweep once its enqueuer died, and ends `incomplete`
 * with the items not queued listed. A failure once the record may exist is `REDIS_UNAVAILABLE`
 * naming the batch (`details: {outcome: 'unknown', id}`).
 *
 * A new batch reserves all its items' images on its tenant's UTC day before its record is
 * created (`QUOTA_EXCEEDED` past the quota: nothing written); the reservation stands once every
 * item is queued, and what a batch cut off part-way never queued is given back (the API's
 * sweep). With fair share, each chunk's items may be added parked, to wait for their tenant's
 * turn (`FairAdmission`).
 */
export class BatchEnqueuer {
  readonly #o: BatchEnqueuerOptions;
  readonly #optionsSchema;

  constructor(options: BatchEnqueuerOptions) {
    this.#o = options;
    this.#optionsSchema = drawingRequestSchema(options.limits).pick({
      callbackUrl: true,
      idempotencyKey: true,
      priority: true,
    });
  }

  /**
   * `options` may be a function, called once every item was read: options known only then (a
   * JSON body streamed with its options after `items`); such options are validated then, and
   * the items must be an iterable.
   */
  async create(
    items: BatchItems,
    options: BatchOptions | (() => BatchOptions) = {},
    tenant = DEFAULT_TENANT,
  ): Promise<BatchCreated> {
    const checkCallback = this.#o.callbacks.checker();
    const resolve = async (given: BatchOptions) => {
      const { itemLabel: _label, onEnqueued, ...rest } = given;
      const batch = validate(this.#optionsSchema, rest);
      if (batch.callbackUrl !== undefined) await checkCallback(batch.callbackUrl, 'callbackUrl');
      return { ...batch, ...(onEnqueued ? { onEnqueued } : {}) };
    };
    const late = typeof options === 'function' ? options : undefined;
    let batch = late ? undefined : await resolve(options as BatchOptions);
    const parser = new BatchItemParser(
      this.#o.limits,
      late ? undefined : (options as BatchOptions).itemLabel,
    );
    const fingerprint = new BatchFingerprint();
    let images = 0;
    const parse = async (item: unknown, index: number): Promise<BatchItem | undefined> => {
      const parsed = parser.parse(item, index);
      if (parsed === undefined) return undefined;
      images += parsed.num;
      if (parsed.callbackUrl !== undefined) {
        await checkCallback(parsed.callbackUrl, `items.${index}.callbackUrl`);
      }
      fingerprint.add(parsed);
      return parsed;
    };

    let source: ItemSource;
    if (late) {
      // Read the items, then the options (before counting: a body without items says so).
      async function* thenOptions(): AsyncGenerator<unknown> {
        yield* items as Iterable<unknown> | AsyncIterable<unknown>;
        batch = await resolve(late?.() ?? {});
      }
      source = await this.#validateStream(thenOptions(), parse);
    } else if (Array.isArray(items)) {
      source = await this.#validateArray(items, parse);
    } else {
      source = await this.#validateStream(
        items as Iterable<unknown> | AsyncIterable<unknown>,
        parse,
      );
    }
    try {
      if (parser.issues.length > 0 || parser.invalidCount > 0) {
        throw new ValidationError(parser.issues);
      }
      const options = batch as NonNullable<typeof batch>;
      const priority = options.priority ?? DEFAULT_PRIORITY.batchItem;
      const contentHash = fingerprint.digest({ callbackUrl: options.callbackUrl, priority });
      return await this.#enqueue(source, contentHash, options, { tenant, images });
    } finally {
      await source.dispose();
    }
  }

  async #validateArray(
    items: readonly unknown[],
    parse: (item: unknown, index: number) => Promise<BatchItem | undefined>,
  ): Promise<ItemSource> {
    this.#checkCount(items.length, items.length > this.#o.maxItems);
    for (let i = 0; i < items.length; i++) await parse(items[i], i);
    const schema = drawingRequestSchema(this.#o.limits);
    return {
      total: items.length,
      async *chunks(from, size) {
        for (let start = from; start < items.length; start += size) {
          // Already validated: parsing again only applies defaults (num).
          yield items.slice(start, start + size).map((item) => schema.parse(item) as BatchItem);
        }
      },
      dispose: async () => undefined,
    };
  }

  async #validateStream(
    items: Iterable<unknown> | AsyncIterable<unknown>,
    parse: (item: unknown, index: number) => Promise<BatchItem | undefined>,
  ): Promise<ItemSource> {
    const spool = await ItemSpool.create<BatchItem>();
    try {
      let index = 0;
      for await (const item of items) {
        this.#checkCount(index + 1, index + 1 > this.#o.maxItems);
        const parsed = await parse(item, index++);
        if (parsed) await spool.append(parsed);
      }
      this.#checkCount(index, false);
    } catch (error) {
      await spool.dispose();
      throw error;
    }
    return {
      total: spool.count,
      chunks: (from, size) => spool.chunks(from, size),
      dispose: () => spool.dispose(),
    };
  }

  #checkCount(count: number, tooMany: boolean): void {
    if (count === 0) {
      throw new ValidationError([
        { field: 'items', rule: 'minItems', message: 'items must have at least 1 item' },
      ]);
    }
    if (tooMany) {
      const max = this.#o.maxItems;
      throw new ValidationError([
        { field: 'items', rule: 'maxItems', message: `items must have at most ${max} items` },
      ]);
    }
  }

  async #enqueue(
    source: ItemSource,
    contentHash: string,
    batch: Omit<BatchOptions, 'itemLabel'>,
    owner: BatchOwner,
  ): Promise<BatchCreated> {
    const id = batchIdFor(batch.idempotencyKey, owner.tenant);
    let sent = false;
    try {
      return await this.#enqueueAs(id, source, contentHash, batch, owner, () => {
        sent = true;
      });
    } catch (error) {
      // Once the record may exist, a caller without a key can only find the batch by its id.
      if (error instanceof RedisUnavailableError && (sent || error.sent)) {
        throw RedisUnavailableError.outcomeUnknown('batch', id, error);
      }
      throw error;
    }
  }

  async #enqueueAs(
    id: string,
    source: ItemSource,
    contentHash: string,
    batch: Omit<BatchOptions, 'itemLabel'>,
    owner: BatchOwner,
    onSent: () => void,
  ): Promise<BatchCreated> {
    const { guard, ledger, reservations } = this.#o;
    const total = source.total;
    const keyed = batch.idempotencyKey !== undefined;
    // A batch its key names already (sent again) reserves nothing: look first.
    const known = keyed && (await guard.run(() => ledger.get(id))) !== undefined;
    const reservation = known
      ? undefined
      : await reservations.reserve({
          kind: 'batch',
          queue: 'drawing',
          id,
          tenant: owner.tenant,
          images: owner.images,
          jobs: total,
        });
    let created = false;
    try {
      created = await this.#record(id, total, contentHash, batch, owner, reservation, onSent);
    } catch (error) {
      if (reservation && !(error instanceof RedisUnavailableError && error.sent)) {
        await reservations.cancel(reservation);
      }
      throw error;
    }
    if (!created) {
      if (reservation) await reservations.cancel(reservation);
      const existing = await guard.run(() => ledger.get(id));
      if (existing && existing.enqueued >= total) {
        // Announced again in case the submission that finished it died before announcing
        // (the delivery id is the same, so a callback already queued is not doubled).
        if (isBatchFinished(existing.state)) await this.#announce(id);
        return { id, total, created: false, images: 0 };
      }
    }
    const images = created ? owner.images : 0;

    const lease = await this.#lease(id);
    if (!lease) return { id, total, created, images };
    // Every addBulk sent and not answered yet, as ioredis runs it (the guard may give up on
    // one that still lands). Settled ones leave the set: it never holds a batch's jobs.
    const sends = new Set<Promise<void>>();
    try {
      await this.#send(id, source, batch, owner.tenant, lease, sends);
    } catch (error) {
      // Without a key nobody can resume this batch: close it now rather than leave it open
      // (or, when Redis is away, leave it to the sweep once the lease has expired).
      if (!keyed) await this.#closeAfterFailure(id, lease, sends);
      throw error;
    } finally {
      await lease.release().catch(() => undefined);
    }
    if (reservation) await reservations.confirm(reservation);
    return { id, total, created, images };
  }

  /**
   * Creates the batch record (with its reservation, when it made one): true when this call
   * created it, false when it exists (the same batch sent again; refused if its items or
   * options differ, or if it expired recently).
   */
  async #record(
    id: string,
    total: number,
    contentHash: string,
    batch: Omit<BatchOptions, 'itemLabel'>,
    owner: BatchOwner,
    reservation: Reservation | undefined,
    onSent: () => void,
  ): Promise<boolean> {
    const { guard, ledger } = this.#o;
    // Twice at most: a batch that expires between `create` and `get` is created anew.
    for (let tries = 0; tries < 2; tries++) {
      const outcome = await guard.run(() => {
        onSent();
        return ledger.create(id, total, {
          ...(batch.callbackUrl ? { callbackUrl: batch.callbackUrl } : {}),
          keyed: batch.idempotencyKey !== undefined,
          contentHash,
          tenant: owner.tenant,
          ...(reservation ? { usage: { day: reservation.day, reserved: owner.images } } : {}),
        });
      });
      if (outcome === 'conflict') {
        throw this.#conflict(id, batch.idempotencyKey, 'other items or options');
      }
      if (outcome === 'expired') {
        throw new IdempotencyConflictError(
          `batch ${id} finished and was removed by retention; its idempotencyKey "${batch.idempotencyKey}" cannot start it again (use a new key)`,
          { field: 'idempotencyKey', idempotencyKey: batch.idempotencyKey, id },
        );
      }
      if (outcome === 'created') return true;
      const existing = await guard.run(() => ledger.get(id));
      if (!existing) continue;
      // A batch recorded before content hashes were kept can only be told apart by its size.
      if (existing.total !== total) {
        throw this.#conflict(id, batch.idempotencyKey, `${existing.total} items, not ${total}`);
      }
      return false;
    }
    return false;
  }

  /** Queues the items not queued yet, chunk by chunk, under the enqueue lease. */
  async #send(
    id: string,
    source: ItemSource,
    batch: Omit<BatchOptions, 'itemLabel'>,
    tenant: string,
    lease: Lease,
    sends: Set<Promise<void>>,
  ): Promise<void> {
    const { guard, ledger } = this.#o;
    const total = source.total;
    // Read under the lease: another submission may have queued items meanwhile.
    const recorded = await guard.run(() => ledger.withUsage(id));
    const from = recorded?.batch.enqueued ?? 0;
    const item = {
      tenant,
      priority: batch.priority ?? DEFAULT_PRIORITY.batchItem,
      enqueuedAt: Date.now(),
      ...(recorded?.usage ? { usageDay: recorded.usage.day } : {}),
    };
    let index = from;
    // Up to `chunksInFlight` addBulk calls overlap (building one while Redis runs another);
    // chunks are counted strictly in order, so items [0, enqueued) are always in the queue.
    const inFlight: Array<{ added: Promise<unknown>; count: number; images: number; end: number }> =
      [];
    const countOldest = async () => {
      const oldest = inFlight.shift();
      if (!oldest) return;
      await oldest.added;
      await guard.run(() => lease.renew()); // still ours? (else counting would double up)
      const counted = await guard.run(() => ledger.markEnqueued(id, oldest.count, oldest.images));
      if (counted.closed) throw lostLease(id);
      batch.onEnqueued?.(oldest.end, total);
      // Every item settled before this chunk was counted: the batch finished here, not in a worker.
      if (counted.finishedAt !== undefined) await this.#announce(id, counted.finishedAt);
    };
    for await (const chunk of source.chunks(from, this.#o.chunkSize)) {
      const first = index;
      index += chunk.length;
      // Noted before sending (and the lease checked): whoever closes a cut-off batch knows
      // which items may have been sent.
      const mine = await guard.run(() => ledger.sending(id, lease.token, index, this.#o.leaseMs));
      if (!mine) throw lostLease(id);
      const jobs = await this.#jobs(id, first, chunk, item);
      const images = chunk.reduce((sum, each) => sum + each.num, 0);
      const added = guard.run(() => {
        const send = this.#o.queues.drawing.addBulk(jobs);
        const answered = send.then(noop, noop);
        sends.add(answered);
        void answered.then(() => sends.delete(answered));
        return send;
      }, BULK_TIMEOUT_MS);
      added.catch(() => undefined); // awaited (and its error thrown) by countOldest
      inFlight.push({ added, count: jobs.length, images, end: index });
      if (inFlight.length >= this.#o.chunksInFlight) await countOldest();
    }
    while (inFlight.length > 0) await countOldest();
  }

  /**
   * An unkeyed batch whose enqueue failed part-way: once every add sent has been answered (or
   * failed), close it here, listing the items not queued. When Redis is away, or an add is
   * still unanswered, the lease is left to expire and the API's sweep closes it later.
   */
  async #closeAfterFailure(id: string, lease: Lease, sends: Set<Promise<void>>) {
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      Promise.all([...sends]).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), BULK_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!answered) return;
    await this.#o.guard
      .run(() => this.#o.closer.close(id, lease), BULK_TIMEOUT_MS)
      .catch((err: unknown) =>
        this.#o.logger.warn({ err, batchId: id }, 'closing a cut-off batch failed; the sweep will'),
      );
  }

  /** The key names a batch made of something else: nothing is queued. */
  #conflict(id: string, key: string | undefined, what: string): IdempotencyConflictError {
    return new IdempotencyConflictError(
      `idempotencyKey "${key}" already names batch ${id}, created with ${what}: send the same batch again, or use a new key`,
      { field: 'idempotencyKey', idempotencyKey: key, id },
    );
  }

  /** `finishedAt` when this process just finished the batch; without it, announce only if lost. */
  #announce(batchId: string, finishedAt?: number): Promise<void> {
    const deps = { callbacks: this.#o.completions, ledger: this.#o.ledger, logger: this.#o.logger };
    return this.#o.guard.run(() => announceBatchCompleted(batchId, deps, finishedAt));
  }

  /**
   * The jobs of a chunk's items (from index `first`). With fair share, each run of items of
   * one priority asks for its turn: the first ones may go to the queue as usual, the rest are
   * added parked (listed in the tenant's backlog before they are added).
   */
  async #jobs(batchId: string, first: number, chunk: BatchItem[], item: ItemDefaults) {
    const jobs = [];
    for (let start = 0; start < chunk.length; ) {
      const priority = toBullmqPriority(chunk[start]?.priority ?? item.priority);
      let end = start + 1;
      while (
        end < chunk.length &&
        toBullmqPriority(chunk[end]?.priority ?? item.priority) === priority
      )
        end++;
      const from = first + start;
      const direct = await this.#o.fair.route('drawing', item.tenant, priority, end - start, {
        kind: 'range',
        batchId,
        idPrefix: batchItemIdPrefix(batchId),
        from,
        to: first + end,
      });
      for (let i = start; i < end; i++) {
        const index = first + i;
        const meta = jobMeta(
          {
            callbackUrl: chunk[i]?.callbackUrl,
            batchId,
            batchIndex: index,
            tenant: item.tenant,
            usageDay: item.usageDay,
          },
          item.enqueuedAt,
        );
        const data: DrawingJobData = drawingJobData(chunk[i] as BatchItem, meta);
        const jobId = batchItemJobId(batchId, index);
        const parked = index - from >= direct;
        const opts = this.#o.queues.jobOptions('drawing', jobId, priority, parked);
        jobs.push({ name: 'drawing', data, opts });
      }
      start = end;
    }
    return jobs;
  }

  /** One enqueuer per batch at a time (a concurrent duplicate submission returns at once). */
  async #lease(id: string): Promise<Lease | undefined> {
    const { redis, guard, leaseMs } = this.#o;
    const key = atelierKeys(this.#o.prefix).batch.enqueueLease(id);
    const lease = await guard.run(() => RedisLease.acquire(redis, key, leaseMs));
    if (!lease) return undefined;
    return {
      token: lease.token,
      renew: async () => {
        if (!(await lease.renew())) throw lostLease(id);
      },
      release: () => lease.release(),
    };
  }
}

/**
 * This enqueuer stalled past its lease and another submission took over (items already queued
 * keep their ids, so the other one counts them once), or the sweep closed the batch: stop here.
 */
function lostLease(id: string): Error {
  return new Error(`lost the enqueue lease of batch ${id}; another process took it over`);
}

const noop = (): void => undefined;

/** What every item of a batch shares (its own fields come on top). */
interface ItemDefaults {
  tenant: string;
  priority: number;
  enqueuedAt: number;
  usageDay?: string;
}

interface ItemSource {
  total: number;
  chunks(from: number, size: number): AsyncIterable<BatchItem[]>;
  dispose(): Promise<void>;
}

interface Lease {
  readonly token: string;
  renew(): Promise<void>;
  release(): Promise<void>;
}
