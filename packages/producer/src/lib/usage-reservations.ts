import {
  type Logger,
  nextUsageDayStart,
  quotaOf,
  type TenantsConfig,
  usageDay,
} from '@atelier/shared';
import type { Reservation, TenantUsage } from '@atelier/store';
import { QuotaExceededError } from './errors/quota-exceeded-error.ts';
import type { RedisGuard } from './redis-guard.ts';

export interface UsageReservationsOptions {
  readonly usage: TenantUsage;
  readonly guard: RedisGuard;
  readonly quotas: TenantsConfig['quotas'];
  readonly clock: () => number;
  readonly logger: Logger;
  /** A batch's reservation is looked at again this long after its enqueue last had to end. */
  readonly batchDeadlineMs: number;
}

/** A job's reservation past this (its add long answered or long lost) is settled by the sweep. */
const JOB_DEADLINE_MS = 2 * 60_000;
/** Counts of tenants without a quota are written this often (summed per tenant and day). */
const TALLY_FLUSH_MS = 1000;

/** What the enqueues of tenants without a quota added up to, not written yet. */
interface Tally {
  tenant: string;
  day: string;
  images: number;
  jobs: number;
}
/** Reservations settled per sweep. */
const SWEEP_PAGE = 200;

/**
 * The producer's side of tenant usage: every enqueue reserves its images (and jobs) on the
 * tenant's UTC day before anything is queued — refused whole with `QUOTA_EXCEEDED` past the
 * tenant's quota — and confirms once queued, or gives them back when the work was refused or
 * existed already. `settleDue` (the API's sweep) finds reservations whose enqueue never came
 * back (the process died in between) and gives back those whose work does not exist.
 */
export class UsageReservations {
  readonly #o: UsageReservationsOptions;
  readonly #tally = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(options: UsageReservationsOptions) {
    this.#o = options;
  }

  /** The UTC day an enqueue now counts on. */
  today(): string {
    return usageDay(this.#o.clock());
  }

  /** Whether `tenant` has a quota (its enqueues reserve before they add). */
  limited(tenant: string): boolean {
    return quotaOf(this.#o.quotas, tenant) !== undefined;
  }

  /**
   * Counts work already queued for a tenant without a quota: nothing to refuse, so nothing to
   * reserve — the add stays the enqueue's only write, and the counts are summed per tenant and
   * day in this process and written every `TALLY_FLUSH_MS` (and before a usage read, and at
   * close). A process that dies loses at most that much of its count; a write that fails is
   * kept for the next.
   */
  count(work: Omit<Reservation, 'day'>, day = this.today()): void {
    const key = `${work.tenant}|${day}`;
    const tally = this.#tally.get(key) ?? { tenant: work.tenant, day, images: 0, jobs: 0 };
    tally.images += work.images;
    tally.jobs += work.jobs;
    this.#tally.set(key, tally);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, TALLY_FLUSH_MS).unref();
  }

  /** Writes the counts summed so far (one at a time; those that fail wait for the next). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#tally.size === 0) return;
    const tallies = [...this.#tally.values()];
    this.#tally.clear();
    const { guard, usage, logger } = this.#o;
    this.#flushing = Promise.all(
      tallies.map((tally) =>
        guard
          .run(() => usage.count(tally))
          .catch((err: unknown) => {
            logger.warn({ err, tenant: tally.tenant }, 'usage count not written; trying again');
            this.count({ kind: 'job', queue: '', id: '', ...tally }, tally.day);
          }),
      ),
    ).then(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  /** Writes what is left (the producer closes). */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reserves `images` and `jobs` for the work `id`; throws `QuotaExceededError` past the quota. */
  async reserve(work: Omit<Reservation, 'day'>): Promise<Reservation> {
    const now = this.#o.clock();
    const reservation: Reservation = { ...work, day: usageDay(now) };
    const limit = quotaOf(this.#o.quotas, work.tenant);
    const deadline = now + (work.kind === 'batch' ? this.#o.batchDeadlineMs : JOB_DEADLINE_MS);
    const { reserved, used } = await this.#o.guard.run(() =>
      this.#o.usage.reserve(reservation, limit, deadline),
    );
    if (!reserved) {
      const resetAt = new Date(nextUsageDayStart(now)).toISOString();
      throw new QuotaExceededError(
        work.tenant,
        { limit: limit ?? 0, used, requested: work.images, resetAt },
        now,
      );
    }
    return reservation;
  }

  /** The work is queued. A failed confirm is left to the sweep (it finds the work). */
  async confirm(reservation: Reservation): Promise<void> {
    await this.#o.guard
      .run(() => this.#o.usage.confirm(reservation))
      .catch((err: unknown) =>
        this.#o.logger.warn({ err, id: reservation.id }, 'usage confirm failed; the sweep will'),
      );
  }

  /** The work was not queued by this request: the reservation goes back (else the sweep's). */
  async cancel(reservation: Reservation): Promise<void> {
    await this.#o.guard
      .run(() => this.#o.usage.cancel(reservation))
      .catch((err: unknown) =>
        this.#o.logger.warn({ err, id: reservation.id }, 'usage give-back failed; the sweep will'),
      );
  }

  /**
   * Settles reservations past their deadline: given back when their work does not exist (or
   * only part of a batch was queued), kept when it does. Returns how many were given back.
   */
  async settleDue(jobKey: (reservation: Reservation) => string): Promise<number> {
    const { usage, guard, clock } = this.#o;
    const due = await guard.run(() => usage.due(clock(), SWEEP_PAGE));
    let givenBack = 0;
    for (const reservation of due) {
      const nextDeadline = clock() + this.#o.batchDeadlineMs;
      const where =
        reservation.kind === 'job'
          ? { jobKey: jobKey(reservation), nextDeadline }
          : { nextDeadline };
      const settled = await guard.run(() => usage.settleDue(reservation, where));
      if (settled === 'given-back') {
        givenBack++;
        this.#o.logger.warn(
          { id: reservation.id, tenant: reservation.tenant, day: reservation.day },
          'a reservation whose enqueue never finished was given back',
        );
      }
    }
    return givenBack;
  }
}
