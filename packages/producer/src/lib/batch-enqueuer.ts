import {
  atelierKeys,
  DEFAULT_PRIORITY,
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
  type RedisClient,
  RedisLease,
} from '@atelier/store';
import { BatchFingerprint } from './batch-fingerprint.ts';
import { batchIdFor, batchItemJobId } from './batch-id.ts';
import { type BatchItem, BatchItemParser, type ItemLabel } from './batch-item-parser.ts';
import type { CallbackPolicy } from './callback-policy.ts';
import { IdempotencyConflictError } from './errors/idempotency-conflict-error.ts';
import { ItemSpool } from './item-spool.ts';
import { drawingJobData, jobMeta } from './job-data.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

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
}

/** One chunk of a batch (`addBulk` of `chunkSize` jobs) fails with `REDIS_UNAVAILABLE` after this. */
const BULK_TIMEOUT_MS = 15_000;
/** How long an enqueuer holds a batch before another submission may take over (crash). */
const LEASE_MS = 60_000;

/**
 * Creates a batch: every item is validated (and every callback URL checked) before anything
 * is written; then the ledger record is created, then items go to the drawing queue in
 * chunks (`addBulk`), each chunk counted with `markEnqueued` — the ledger completes a batch
 * only once every item is queued and settled. Memory stays bounded: an array is read in
 * place and only one chunk of jobs exists at a time; any other iterable (a request stream)
 * is validated into a temporary file first, then queued from it.
 *
 * If the process dies part-way, submitting the batch again with the same idempotency key
 * queues the remaining items (ids derive from batch id and index, so nothing is doubled).
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

  async create(items: BatchItems, options: BatchOptions = {}): Promise<BatchCreated> {
    const { itemLabel, onEnqueued, ...rest } = options;
    const batch = validate(this.#optionsSchema, rest);
    const checkCallback = this.#o.callbacks.checker();
    if (batch.callbackUrl !== undefined) await checkCallback(batch.callbackUrl, 'callbackUrl');
    const parser = new BatchItemParser(this.#o.limits, itemLabel);
    const fingerprint = new BatchFingerprint();
    const parse = async (item: unknown, index: number): Promise<BatchItem | undefined> => {
      const parsed = parser.parse(item, index);
      if (parsed === undefined) return undefined;
      if (parsed.callbackUrl !== undefined) {
        await checkCallback(parsed.callbackUrl, `items.${index}.callbackUrl`);
      }
      fingerprint.add(parsed);
      return parsed;
    };

    const source = Array.isArray(items)
      ? await this.#validateArray(items, parse)
      : await this.#validateStream(items as Iterable<unknown> | AsyncIterable<unknown>, parse);
    try {
      if (parser.issues.length > 0 || parser.invalidCount > 0) {
        throw new ValidationError(parser.issues);
      }
      const priority = batch.priority ?? DEFAULT_PRIORITY.batchItem;
      const contentHash = fingerprint.digest({ callbackUrl: batch.callbackUrl, priority });
      return await this.#enqueue(source, contentHash, {
        ...batch,
        ...(onEnqueued ? { onEnqueued } : {}),
      });
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
  ): Promise<BatchCreated> {
    const { guard, ledger } = this.#o;
    const total = source.total;
    const id = batchIdFor(batch.idempotencyKey);
    let created = false;
    // Twice at most: a batch that expires between `create` and `get` is created anew.
    for (let tries = 0; tries < 2; tries++) {
      const outcome = await guard.run(() =>
        ledger.create(id, total, {
          ...(batch.callbackUrl ? { callbackUrl: batch.callbackUrl } : {}),
          keyed: batch.idempotencyKey !== undefined,
          contentHash,
        }),
      );
      if (outcome === 'conflict')
        throw this.#conflict(id, batch.idempotencyKey, 'other items or options');
      if (outcome === 'expired') {
        throw new IdempotencyConflictError(
          `batch ${id} finished and was removed by retention; its idempotencyKey "${batch.idempotencyKey}" cannot start it again (use a new key)`,
          { field: 'idempotencyKey', idempotencyKey: batch.idempotencyKey, id },
        );
      }
      created = outcome === 'created';
      if (created) break;
      const existing = await guard.run(() => ledger.get(id));
      if (!existing) continue;
      // A batch recorded before content hashes were kept can only be told apart by its size.
      if (existing.total !== total) {
        throw this.#conflict(id, batch.idempotencyKey, `${existing.total} items, not ${total}`);
      }
      if (existing.enqueued >= total) {
        // Announced again in case the submission that finished it died before announcing
        // (the delivery id is the same, so a callback already queued is not doubled).
        if (existing.state === 'completed') await this.#announce(id);
        return { id, total, created: false };
      }
      break;
    }

    const lease = await this.#lease(id);
    if (!lease) return { id, total, created };
    try {
      // Read under the lease: another submission may have queued items meanwhile.
      const from = (await guard.run(() => ledger.get(id)))?.enqueued ?? 0;
      const priority = batch.priority ?? DEFAULT_PRIORITY.batchItem;
      const enqueuedAt = Date.now();
      let index = from;
      // Up to `chunksInFlight` addBulk calls overlap (building one while Redis runs another);
      // chunks are counted strictly in order, so items [0, enqueued) are always in the queue.
      const inFlight: Array<{ added: Promise<unknown>; count: number; end: number }> = [];
      const countOldest = async () => {
        const oldest = inFlight.shift();
        if (!oldest) return;
        await oldest.added;
        await guard.run(() => lease.renew()); // still ours? (else counting would double up)
        const { finishedAt } = await guard.run(() => ledger.markEnqueued(id, oldest.count));
        batch.onEnqueued?.(oldest.end, total);
        // Every item settled before this chunk was counted: the batch finished here, not in a worker.
        if (finishedAt !== undefined) await this.#announce(id, finishedAt);
      };
      for await (const chunk of source.chunks(from, this.#o.chunkSize)) {
        const jobs = chunk.map((item) => this.#job(id, index++, item, priority, enqueuedAt));
        const added = guard.run(() => this.#o.queues.drawing.addBulk(jobs), BULK_TIMEOUT_MS);
        added.catch(() => undefined); // awaited (and its error thrown) by countOldest
        inFlight.push({ added, count: jobs.length, end: index });
        if (inFlight.length >= this.#o.chunksInFlight) await countOldest();
      }
      while (inFlight.length > 0) await countOldest();
    } finally {
      await lease.release().catch(() => undefined);
    }
    return { id, total, created };
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

  #job(batchId: string, index: number, item: BatchItem, priority: number, enqueuedAt: number) {
    const jobId = batchItemJobId(batchId, index);
    const meta = jobMeta({ callbackUrl: item.callbackUrl, batchId, batchIndex: index }, enqueuedAt);
    const data: DrawingJobData = drawingJobData(item, meta);
    const bullmqPriority = toBullmqPriority(item.priority ?? priority);
    return {
      name: 'drawing',
      data,
      opts: this.#o.queues.jobOptions('drawing', jobId, bullmqPriority),
    };
  }

  /** One enqueuer per batch at a time (a concurrent duplicate submission returns at once). */
  async #lease(id: string): Promise<Lease | undefined> {
    const { redis, guard } = this.#o;
    const key = atelierKeys(this.#o.prefix).batch.enqueueLease(id);
    const lease = await guard.run(() => RedisLease.acquire(redis, key, LEASE_MS));
    if (!lease) return undefined;
    return {
      renew: async () => {
        if (!(await lease.renew())) {
          // This enqueuer stalled past its lease and another submission took over: stop here
          // (items already queued keep their ids, so the other one counts them once).
          throw new Error(`lost the enqueue lease of batch ${id}; another submission took over`);
        }
      },
      release: () => lease.release(),
    };
  }
}

interface ItemSource {
  total: number;
  chunks(from: number, size: number): AsyncIterable<BatchItem[]>;
  dispose(): Promise<void>;
}

interface Lease {
  renew(): Promise<void>;
  release(): Promise<void>;
}
