import {
  atelierKeys,
  DEFAULT_PRIORITY,
  type DeadLetter,
  type JobKind,
  jobTenant,
  kindOfJobId,
  type Logger,
  redactCallbackUrl,
  toBullmqPriority,
  unpaidImages,
} from '@atelier/shared';
import {
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterStore,
  finishReplay,
  type JobSnapshot,
  type JobSnapshotView,
  type RedisClient,
  RedisLease,
  type TenantUsage,
} from '@atelier/store';
import { NotFoundError } from './errors/not-found-error.ts';
import { ReplayConflictError } from './errors/replay-conflict-error.ts';
import { jobDataFromDeadLetter, replayedJobData } from './job-data.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

export interface DeadLetterOperationsOptions {
  readonly queues: ProducerQueues;
  readonly deadLetters: DeadLetterStore;
  readonly snapshots: JobSnapshot;
  readonly guard: RedisGuard;
  readonly logger: Logger;
  /** For the per-entry replay lease. */
  readonly redis: RedisClient;
  readonly prefix: string;
  /** A replay of a drawing whose images were given back (never paid for) counts them again. */
  readonly usage: TenantUsage;
}

export interface PageRequest {
  offset?: number;
  limit?: number;
}

/** Replays and purges by filter work through this many entries at once. */
const CONCURRENCY = 16;
/** How long listing with a filter on several fields may take (it counts every match). */
const COUNTING_TIMEOUT_MS = 10_000;
/** Longest a replay may hold its entry (it takes milliseconds; the lease outlives a crash). */
const REPLAY_LEASE_MS = 15_000;

/**
 * Operator actions on the dead-letter queue: list, replay, delete, by id or by filter.
 *
 * Replay, in this order so that a failure at any step leaves nothing waiting for good: (1)
 * retry the failed BullMQ job with one more replay in its meta (a drawing with a taskId
 * restarts its poll deadline and keeps polling, never submitting again) — or, when retention
 * removed the job, add it again under the same id, rebuilt from the entry — then (2) in one
 * script, remove that filing of the entry and reopen its batch item (`finishReplay`). Failing
 * before (1) changes nothing (replay again). Failing between (1) and (2), the replayed run
 * removes the filing itself (it is older than its replay count) and settles its batch item when
 * it ends, while the item reads as it did; a job that dies again is filed anew, and (2) leaves
 * the new filing and its item alone.
 *
 * Delete removes the failed BullMQ job first (else the reconciler could file it again), then
 * the entry; the batch item stays dead. Failing in between, a delete again finishes it.
 *
 * Replay and delete of an entry take the same lease (a Redis key per entry, held by one at a
 * time; the other request gets `REPLAY_CONFLICT`): a delete under way would remove a job the
 * replay just queued, and two replays at once could both reopen the batch item.
 */
export class DeadLetterOperations {
  readonly #o: DeadLetterOperationsOptions;

  constructor(options: DeadLetterOperationsOptions) {
    this.#o = options;
  }

  async list(filter: DeadLetterFilter = {}, page: PageRequest = {}): Promise<DeadLetterPage> {
    // A filter on several fields counts its matches through the smallest of their indexes, a
    // chunk at a time: a few hundred ms for 100,000s of entries, more than one call's timeout.
    const fields = [filter.queue, filter.code, filter.batchId].filter((f) => f !== undefined);
    const timeoutMs = fields.length > 1 ? COUNTING_TIMEOUT_MS : undefined;
    const found = await this.#o.guard.run(() => this.#o.deadLetters.list(filter, page), timeoutMs);
    return { ...found, items: found.items.map(shown) };
  }

  async get(id: string): Promise<DeadLetter> {
    const entry = await this.#o.guard.run(() => this.#o.deadLetters.get(id));
    if (!entry) throw new NotFoundError('dead letter', id);
    return shown(entry);
  }

  async replay(id: string): Promise<void> {
    await this.#holding(id, (lease) => this.#replayHolding(id, lease));
  }

  async delete(id: string): Promise<void> {
    await this.#holding(id, () => this.#deleteHolding(id));
  }

  /** Runs `action` holding the entry's lease (`REPLAY_CONFLICT` when another holds it). */
  async #holding(id: string, action: (lease: RedisLease) => Promise<void>): Promise<void> {
    const { guard, redis } = this.#o;
    const key = atelierKeys(this.#o.prefix).deadLetters.replayLease(id);
    const lease = await guard.run(() => RedisLease.acquire(redis, key, REPLAY_LEASE_MS));
    if (!lease) throw new ReplayConflictError(id, 'replaying');
    try {
      await action(lease);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  async #replayHolding(id: string, lease: RedisLease): Promise<void> {
    const { guard, queues, redis, prefix } = this.#o;
    // The entry, the job's state and its data from one snapshot. A worker files the dead
    // letter just before BullMQ marks the job failed: replaying in between would consume the
    // entry and leave the job failed, the replay silently lost; and data read before the
    // failure would lose the attempt it recorded.
    const { kind, snapshot } = await this.#snapshot(id);
    const { deadLetter: entry, state, job: record } = snapshot;
    if (!entry) throw new NotFoundError('dead letter', id);
    if (record && state !== 'failed' && state !== 'unknown') {
      throw new ReplayConflictError(id, state);
    }
    // BullMQ's handle on the failed job, to update and retry it (or none: retention removed it).
    const job =
      record && state === 'failed' ? await guard.run(() => queues.getJob(kind, id)) : undefined;
    if (record && job) {
      await guard.run(() => job.updateData(replayedJobData(record.data, entry)));
      try {
        await guard.run(() =>
          job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }),
        );
      } catch (error) {
        // Another replay of the same entry retried it first.
        if ((await guard.run(() => job.getState())) !== 'failed') {
          throw new ReplayConflictError(id, 'replaying');
        }
        throw error;
      }
    } else {
      await this.#addAgain(entry);
    }
    await this.#recount(entry);
    const finish = await guard.run(() => finishReplay(redis, prefix, entry, lease.token));
    if (finish === 'lease-lost') {
      // Queued again all the same: the replayed run removes the filing and settles its item.
      this.#o.logger.warn({ jobId: id }, 'dead letter replayed after its lease ran out');
    }
    this.#o.logger.info({ jobId: id, code: entry.code }, 'dead letter replayed');
  }

  async #deleteHolding(id: string): Promise<void> {
    const { guard, deadLetters, queues } = this.#o;
    const { kind, snapshot } = await this.#snapshot(id);
    if (!snapshot.deadLetter) throw new NotFoundError('dead letter', id);
    if (snapshot.state === 'failed') {
      const job = await guard.run(() => queues.getJob(kind, id));
      if (job) await guard.run(() => job.remove());
    }
    await guard.run(() => deadLetters.remove(id));
  }

  /** The job and its dead letter in one read (job ids name their kind; others have neither). */
  async #snapshot(id: string): Promise<{ kind: JobKind; snapshot: JobSnapshotView }> {
    const kind = kindOfJobId(id);
    if (kind === undefined) throw new NotFoundError('dead letter', id);
    const { guard, snapshots, queues } = this.#o;
    return { kind, snapshot: await guard.run(() => snapshots.read(queues.forKind(kind), id)) };
  }

  /** Replays every entry matching the filter; returns how many were replayed. */
  async replayMatching(filter: DeadLetterFilter): Promise<number> {
    return this.#forEachMatching(filter, (id) => this.replay(id));
  }

  /** Deletes every entry matching the filter; returns how many were deleted. */
  async purgeMatching(filter: DeadLetterFilter): Promise<number> {
    return this.#forEachMatching(filter, (id) => this.delete(id));
  }

  async #forEachMatching(
    filter: DeadLetterFilter,
    action: (id: string) => Promise<void>,
  ): Promise<number> {
    // A bounded chunk of matching ids at a time (however many match), each acted on before the
    // next is read.
    const chunks = this.#o.deadLetters.matchingIds(filter);
    let done = 0;
    for (;;) {
      const chunk = await this.#o.guard.run(() => chunks.next());
      if (chunk.done) return done;
      done += await this.#forEach(chunk.value, action);
    }
  }

  /** Acts on each id, `CONCURRENCY` at once; returns how many it acted on. */
  async #forEach(ids: readonly string[], action: (id: string) => Promise<void>): Promise<number> {
    let done = 0;
    let next = 0;
    const lane = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        try {
          await action(id);
          done++;
        } catch (error) {
          // Gone meanwhile (another operator), or still being filed by a worker: not an error
          // for a bulk action.
          if (!(error instanceof NotFoundError || error instanceof ReplayConflictError)) {
            throw error;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, lane));
    return done;
  }

  /**
   * Queued again: a drawing whose images were given back when it died unpaid will pay when it
   * runs, so they count again on the day they were counted on (once: `TenantUsage.recount`).
   * The replay is queued already, so a failure here is only logged.
   */
  async #recount(entry: DeadLetter): Promise<void> {
    const images = unpaidImages(entry);
    const day = entry.meta.usageDay;
    if (images === 0 || day === undefined) return;
    const job = { id: entry.id, tenant: jobTenant(entry.meta), day, images };
    await this.#o.guard
      .run(() => this.#o.usage.recount(job))
      .catch((err: unknown) =>
        this.#o.logger.warn({ err, jobId: entry.id }, 'a replay could not count its images again'),
      );
  }

  async #addAgain(entry: DeadLetter): Promise<void> {
    const data = jobDataFromDeadLetter(entry);
    const inBatch = entry.meta.batchId !== undefined;
    const priority = toBullmqPriority(
      inBatch ? DEFAULT_PRIORITY.batchItem : DEFAULT_PRIORITY.single,
    );
    const { queues, guard } = this.#o;
    const options = queues.jobOptions(entry.kind, entry.id, priority);
    await guard.run(() => queues.add(data, options));
  }
}

/**
 * An entry as it is shown (API, dashboard, CLI): its callback URL's query string may carry the
 * receiver's token, so it is hidden (`redactCallbackUrl`). Replays read the stored entry.
 */
function shown(entry: DeadLetter): DeadLetter {
  const { callbackUrl } = entry.meta;
  if (callbackUrl === undefined) return entry;
  return { ...entry, meta: { ...entry.meta, callbackUrl: redactCallbackUrl(callbackUrl) } };
}
