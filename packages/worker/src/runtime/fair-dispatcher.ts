import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { atelierKeys, type Logger } from '@atelier/shared';
import { type FairQueue, type RedisClient, RedisLease } from '@atelier/store';
import type { Queue, Worker } from 'bullmq';

export interface FairDispatcherOptions {
  fair: FairQueue;
  /** The BullMQ queue whose parked jobs it promotes. */
  queue: Queue;
  /** This process's worker of the queue: each job it starts makes room (`active`). */
  worker: Worker;
  redis: RedisClient;
  prefix: string;
  /** This process's slots on the queue: its share of the window. */
  concurrency: number;
  /** Fair-share weights by tenant (`ATELIER_TENANT_WEIGHTS`; default 1). */
  weights: Readonly<Record<string, number>>;
  logger: Logger;
  /** Tests shorten the timings. */
  timings?: Partial<FairDispatcherTimings>;
}

export interface FairDispatcherTimings {
  /** A look while backlogs hold work (besides each job this process starts). */
  busyTickMs: number;
  /** A look while they are empty. */
  idleTickMs: number;
  /** How long a registration (this process's concurrency in the window) lasts unrenewed. */
  registrationMs: number;
  /** An id taken this long ago and not promoted (its dispatcher died) is promoted again. */
  staleAfterMs: number;
  /** An id whose job does not exist is looked for this long (its add in flight), then dropped. */
  awaitAddMs: number;
  /** How often one process looks for parked jobs that no backlog lists. */
  orphanSweepMs: number;
  /** A parked job unlisted for this long (since it was added) is promoted out of turn. */
  orphanAfterMs: number;
}

const DEFAULT_TIMINGS: FairDispatcherTimings = {
  busyTickMs: 250,
  idleTickMs: 1000,
  registrationMs: 15_000,
  staleAfterMs: 10_000,
  awaitAddMs: 10 * 60_000,
  orphanSweepMs: 60_000,
  orphanAfterMs: 60_000,
};

/** Ids taken per script call (the window's room bounds it too). */
const PICK_MAX = 200;
/** Parked ids checked per page by the orphan sweep. */
const SWEEP_PAGE = 1000;

/**
 * Admits parked jobs of one queue in weighted fair order (`FairQueue.pick`) whenever the work
 * admitted and not started falls below the window: on each job this process starts, and on a
 * tick. Every worker process runs one; they share the window (each registers its concurrency)
 * and the order (the pick is one script). An id taken is promoted (BullMQ's own promote), then
 * dropped from the admitting set; one left there by a process that died is promoted by another
 * (`stale`); one whose job does not exist yet (its add in flight) is looked for a while. Once a
 * minute one process (a lease) looks for parked jobs that no backlog lists (their enqueuer died
 * between listing and adding, or an add landed late) and promotes them.
 *
 * Idle, it costs one `EXISTS` a second and a registration every few seconds: nothing on the
 * path of a job.
 */
export class FairDispatcher {
  readonly #o: FairDispatcherOptions;
  readonly #t: FairDispatcherTimings;
  readonly #id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  /** Backlogs held work at the last look: each job started makes room for one more. */
  #busy = false;
  #registeredAt = 0;
  #recoveredAt = 0;
  #sweptAt = 0;
  readonly #onActive = () => {
    if (this.#busy) this.wake();
  };

  constructor(options: FairDispatcherOptions) {
    this.#o = options;
    this.#t = { ...DEFAULT_TIMINGS };
    for (const [name, value] of Object.entries(options.timings ?? {})) {
      if (value !== undefined) this.#t[name as keyof FairDispatcherTimings] = value;
    }
  }

  start(): void {
    this.#stopped = false;
    this.#o.worker.on('active', this.#onActive);
    this.wake();
  }

  /** No more looks (the one under way finishes); the registration goes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.worker.off('active', this.#onActive);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
    await this.#o.fair.unregister(this.#id).catch(() => undefined);
  }

  /** Looks now (or again right after the look under way). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#look().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.wake();
        return;
      }
      const ms = this.#busy ? this.#t.busyTickMs : this.#t.idleTickMs;
      this.#timer = setTimeout(() => this.wake(), ms).unref();
    });
  }

  async #look(): Promise<void> {
    const now = Date.now();
    try {
      if (now - this.#registeredAt >= this.#t.registrationMs / 3) {
        await this.#o.fair.register(this.#id, this.#o.concurrency, this.#t.registrationMs);
        this.#registeredAt = now;
      }
      if (now - this.#recoveredAt >= this.#t.staleAfterMs / 2) {
        this.#recoveredAt = now;
        await this.recover(now);
      }
      if (now - this.#sweptAt >= this.#t.orphanSweepMs) {
        this.#sweptAt = now;
        await this.sweepOrphans(now);
      }
      await this.admit();
    } catch (err) {
      this.#o.logger.warn({ err, queue: this.#o.queue.name }, 'fair share: a look failed');
    }
  }

  /** Takes the ids there is room for, in fair order, and promotes them; returns how many. */
  async admit(): Promise<number> {
    if (!this.#busy && !(await this.#o.fair.hasBacklog())) return 0;
    const { ids, backlogs } = await this.#o.fair.pick(this.#o.weights, PICK_MAX);
    this.#busy = backlogs > 0;
    await this.#promote(ids, Date.now());
    return ids.length;
  }

  /**
   * Ids taken long ago and still admitting are promoted again; ids awaiting their add are
   * tried again, and dropped once their add cannot land any more.
   */
  async recover(now = Date.now()): Promise<void> {
    const { fair } = this.#o;
    const stale = await fair.stale(now - this.#t.staleAfterMs);
    if (stale.length > 0) {
      this.#o.logger.warn(
        { queue: this.#o.queue.name, count: stale.length },
        'fair share: promoting ids another dispatcher took and did not promote',
      );
      await this.#promote(stale, now);
    }
    const awaiting = await fair.awaiting();
    const expired = awaiting.filter(([, since]) => now - since > this.#t.awaitAddMs);
    if (expired.length > 0) await fair.done(expired.map(([id]) => id));
    const retry = awaiting.filter(([, since]) => now - since <= this.#t.awaitAddMs);
    if (retry.length > 0)
      await this.#promote(
        retry.map(([id]) => id),
        now,
        true,
      );
  }

  /**
   * Parked jobs no backlog, admitting or awaiting set lists, parked longer than
   * `orphanAfterMs`: promoted out of turn (one process at a time, under a lease). Returns how
   * many.
   */
  async sweepOrphans(now = Date.now()): Promise<number> {
    const { fair, redis, prefix, queue } = this.#o;
    if ((await fair.parkedCount(now)) === 0) return 0;
    const key = atelierKeys(prefix).fair(queue.name).sweepLease;
    const lease = await RedisLease.acquire(redis, key, this.#t.orphanSweepMs);
    if (!lease) return 0;
    const covered = await fair.coverage();
    const orphans: string[] = [];
    for (let offset = 0; ; offset += SWEEP_PAGE) {
      const ids = await fair.parked(offset, SWEEP_PAGE, now);
      for (const id of ids) {
        if (covered(id)) continue;
        const addedAt = Number(await redis.hget(queue.toKey(id), 'timestamp'));
        if (now - addedAt > this.#t.orphanAfterMs) orphans.push(id);
      }
      if (ids.length < SWEEP_PAGE) break;
    }
    if (orphans.length > 0) {
      this.#o.logger.warn(
        { queue: queue.name, count: orphans.length },
        'fair share: parked jobs no backlog listed are promoted',
      );
      for (const id of orphans) await this.#promoteOne(id);
    }
    return orphans.length;
  }

  /**
   * Promotes each id (BullMQ's promote keeps its priority); those that need nothing more leave
   * the admitting (and awaiting) set, those whose job does not exist yet go to awaiting.
   */
  async #promote(ids: readonly string[], now: number, awaited = false): Promise<void> {
    if (ids.length === 0) return;
    const outcomes = await Promise.all(ids.map((id) => this.#promoteOne(id)));
    const settled = ids.filter((_, i) => outcomes[i] !== 'missing');
    const missing = ids.filter((_, i) => outcomes[i] === 'missing');
    await this.#o.fair.done(settled);
    if (missing.length > 0 && !awaited) await this.#o.fair.awaitAdd(missing, now);
  }

  async #promoteOne(id: string): Promise<'promoted' | 'settled' | 'missing'> {
    const backend = this.#o.queue.getBackend();
    for (let tries = 0; tries < 2; tries++) {
      try {
        await backend.promote(id);
        return 'promoted';
      } catch (error) {
        if ((error as { code?: unknown }).code !== -3) throw error;
      }
      // Not in the delayed set: promoted or cancelled already, or not added yet.
      const state = await this.#o.fair.state(id);
      if (state !== 'parked') return state;
    }
    return 'settled';
  }
}
