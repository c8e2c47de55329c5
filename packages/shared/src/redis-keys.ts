/**
 * Atelier's own Redis keys (BullMQ's are its own business). All live under the BullMQ prefix,
 * so a hash-tagged prefix (`{atelier}`) puts every key of a deployment in one cluster slot.
 */
export function atelierKeys(prefix: string) {
  const sys = `${prefix}:sys`;
  return {
    deadLetters: {
      entries: `${sys}:dlq:entries`,
      byTime: `${sys}:dlq:by-time`,
      byCode: (code: string) => `${sys}:dlq:code:${code}`,
      byQueue: (queue: string) => `${sys}:dlq:queue:${queue}`,
      byBatch: (batchId: string) => `${sys}:dlq:batch:${batchId}`,
      /** Entries of one tenant's jobs (a time index, like the others). */
      byTenant: (tenant: string) => `${sys}:dlq:tenant:${tenant}`,
      /** Set once every entry filed before the tenant index was kept has been entered into it. */
      tenantsIndexed: `${sys}:dlq:tenant-index:v1`,
      codes: `${sys}:dlq:codes`,
      /** Held while an operator replays the entry (one replay of an entry at a time). */
      replayLease: (id: string) => `${sys}:dlq:replaying:${id}`,
      /** How far back the reconciler has walked a queue's failed set (newest `finishedOn`). */
      watermark: (queue: string) => `${sys}:dlq:entries:watermark:${queue}`,
    },
    batch: {
      index: `${sys}:batches`,
      /** Ids of batches not finished yet (a set; the metric counts it). */
      open: `${sys}:batches:open`,
      /** Set once every batch from before the open set and retention has been brought up to date. */
      upgraded: `${sys}:batches:upgraded:v2`,
      meta: (id: string) => `${sys}:batch:${id}`,
      items: (id: string) => `${sys}:batch:${id}:items`,
      /** Left when a batch named by an idempotency key expires: the key may not start it again. */
      gone: (id: string) => `${sys}:batch:${id}:gone`,
      /** Held by the submission queueing the batch's items (one at a time; a crash lets go). */
      enqueueLease: (id: string) => `${sys}:batch:${id}:enqueuer`,
      /** Held by the worker doing a pass of batch upkeep (index, open set). */
      upkeepLease: `${sys}:batches:upkeep`,
      /**
       * Ids of batches with steering work left (a set): a cancel whose waiting items are still
       * to be ended, or a resume whose parked items are still to be released.
       */
      steering: `${sys}:batches:steering`,
      /** Job ids of a batch's items that reached their submit while it was paused (a set). */
      parked: (id: string) => `${sys}:batch:${id}:parked`,
      /** Held by the process tending a batch's steering work (one at a time; a crash lets go). */
      steeringLease: (id: string) => `${sys}:batch:${id}:steerer`,
      /** Ids of paused batches: fair share admits none of their items while they are here. */
      paused: `${sys}:batches:paused`,
    },
    usage: {
      /**
       * One tenant's usage on one UTC day (a hash: `images` counted against its quota, `jobs`
       * accepted); expires long after the day.
       */
      day: (tenant: string, day: string) => `${sys}:usage:${tenant}:${day}`,
      /** Ids of that day's jobs whose images were given back (never paid for): once each. */
      returned: (tenant: string, day: string) => `${sys}:usage:${tenant}:${day}:returned`,
      /**
       * Reservations made before their enqueue, not confirmed yet (a sorted set by deadline): one
       * left past its deadline whose work does not exist is given back.
       */
      pending: `${sys}:usage:pending`,
    },
    /** Fair share between tenants (`FairQueue`), per queue. */
    fair: (queue: string) => ({
      /** `<priority>|<tenant>` of every non-empty backlog (a sorted set scored by priority). */
      active: `${sys}:fair:${queue}:active`,
      /** One tenant's jobs waiting for their turn at one priority: a list of entries. */
      backlog: (priority: number, tenant: string) =>
        `${sys}:fair:${queue}:backlog:${priority}:${tenant}`,
      /** Virtual clocks of start-time fair queueing at one priority (a hash). */
      tags: (priority: number) => `${sys}:fair:${queue}:tags:${priority}`,
      /** Ids taken from a backlog, not promoted yet (a sorted set by when they were taken). */
      admitting: `${sys}:fair:${queue}:admitting`,
      /** Ids taken whose job did not exist yet (its add in flight): tried again for a while. */
      awaiting: `${sys}:fair:${queue}:awaiting`,
      /** The worker processes serving the queue: id → `concurrency|expiresAt` (a hash). */
      workers: `${sys}:fair:${queue}:workers`,
      /** Held by the process looking for parked jobs no backlog lists (once in a while). */
      sweepLease: `${sys}:fair:${queue}:sweep`,
    }),
    drawing: {
      outage: `${sys}:drawing:outage`,
      probe: `${sys}:drawing:probe`,
      maintenanceStreak: `${sys}:drawing:maintenance-streak`,
      /** 404/3xx answers in a row from the drawing endpoint (a hash: count, since). */
      misrouteStreak: `${sys}:drawing:misroute-streak`,
      throttle: `${sys}:drawing:throttle`,
      /** What polls said about durations of one task shape (decayed censored counts, a hash). */
      pollStats: (shape: string) => `${sys}:drawing:poll-stats:v1:${shape}`,
    },
    cme: {
      ticket: (platform: string, userId: string) => `${sys}:cme:ticket:${platform}:${userId}`,
      ticketLock: (platform: string, userId: string) =>
        `${sys}:cme:ticket-lock:${platform}:${userId}`,
      ticketIndex: `${sys}:cme:tickets`,
      rate: (actionClass: string) => `${sys}:cme:rate:${actionClass}`,
    },
    api: {
      /** Requests of one API key (its fingerprint) in the rate-limit window starting then. */
      rate: (keyFingerprint: string, windowStart: number) =>
        `${sys}:api:rate:${keyFingerprint}:${windowStart}`,
    },
    /** Why a queue was paused by Atelier itself (bad credentials, quota): JSON. */
    halt: (queue: string) => `${sys}:halt:${queue}`,
    recentErrors: `${sys}:recent-errors`,
    /**
     * Atelier's own time series (`TimeSeries`): one hash of bounded counters per minute and per
     * hour, named by the bucket's start in epoch seconds; each expires with its retention.
     */
    stats: {
      minute: (startSec: number) => `${sys}:stats:m:${startSec}`,
      hour: (startSec: number) => `${sys}:stats:h:${startSec}`,
    },
  };
}

export type AtelierKeys = ReturnType<typeof atelierKeys>;
