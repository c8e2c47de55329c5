import { atelierKeys, batchItemJobId, createLogger, usageDay } from '@atelier/shared';
import {
  BatchLedger,
  BatchSteering,
  CallbackScheduler,
  DeadLetterStore,
  FairQueue,
  finishReplay,
  JobCancellation,
  JobFence,
  JobSnapshot,
  type RedisClient,
  RedisLease,
  type Reservation,
  STATS_FIELD,
  TenantUsage,
  TimeSeries,
} from '@atelier/store';
import { Queue, QueueKeys } from 'bullmq';
import { expect } from 'vitest';
import { dead, deadLetter, done, T0 } from './store-fixtures.ts';

const HOUR_SEC = 3600;

/**
 * How many Lua scripts the store has (ledger 11, dead-letter store 7, lease 2, job snapshot 1,
 * replay finish 1, job fence 3, job cancellation 3, batch steering 5, tenant usage 7, fair
 * queue 3, time series 1): all run below.
 */
export const STORE_SCRIPT_COUNT = 44;

/**
 * BullMQ's own scripts the store runs: `promote` (a resume releases parked items through it; in
 * the round below it finds the item still running, so it touches only the keys it declares).
 */
export const BULLMQ_SCRIPTS_RUN = 1;

/** What `exerciseEveryScript` observes when every script did its work. */
export const EXERCISED = {
  created: 'created',
  enqueued: {},
  firstSettle: { changed: true, batchCompleted: false, finished: false },
  lastSettle: {
    changed: true,
    batchCompleted: true,
    finished: true,
    finishedAt: expect.any(Number),
  },
  announced: true,
  keyRefusedAfterExpiry: true,
  reopened: true,
  sending: true,
  cut: { status: 'closed' },
  notQueued: [{ first: 2, last: 2 }],
  upkeep: { pruned: 1, repaired: 1 },
  openAfterUpkeep: ['b-cut', 'b1', 'legacy-open'],
  legacyDoneExpires: true,
  index: ['b-cut', 'b1', 'legacy-done', 'legacy-open'],
  inserted: [true, false],
  matched: ['dl1'],
  removed: 'dl1',
  deadLettersLeft: 0,
  leaseRenewed: true,
  leaseLeft: 0,
  replayFinished: 'finished',
  batchAfterReplay: { state: 'open', dead: 0 },
  snapshot: {
    state: 'completed',
    job: { data: { kind: 'drawing' }, returnvalue: { images: ['1.png'] }, attemptsMade: 1 },
    deadLetter: undefined,
  },
  snapshotOfNone: { state: 'unknown', job: undefined, deadLetter: undefined },
  known: [true, false],
  filedIfFailed: ['inserted', 'exists', 'stale'],
  fenced: {
    data: '{"kind":"drawing","state":{"polls":1}}',
    settled: {
      changed: true,
      batchCompleted: true,
      finished: true,
      finishedAt: expect.any(Number),
    },
    ending: { completed: { replays: 0, result: { images: ['f.png'] } } },
    filed: true,
    refused: ['LOCK_LOST', 'LOCK_LOST', 'LOCK_LOST'],
    replaced: [true, false],
  },
  steering: {
    paused: 'paused',
    claimWhilePaused: 'paused',
    resumed: 'open',
    releaseRound: { ended: 0, released: 0, done: false },
    stillParked: 1,
    cancelling: 'cancelling',
    claimWhileCancelled: 'cancelled',
    cancelRound: { ended: 1, released: 0, done: false },
    endedRunning: {
      outcome: { cancelled: true, cancelledAt: expect.any(Number), by: 'batch' },
      finishedAt: expect.any(Number),
    },
    batch: { state: 'cancelled', cancelled: 2, pending: 0 },
    lastRound: { ended: 0, released: 0, done: true },
    single: 'cancelled',
    granted: 'granted',
  },
  tenants: {
    reserved: [true, false],
    cancelled: true,
    due: ['dr_u1@acme', 'b-u@acme'],
    settled: ['given-back', 'confirmed'],
    givenBack: [true, false],
    recounted: [true, false],
    usage: [{ day: expect.any(String), images: 4, jobs: 4 }],
    indexed: ['dl-t1@acme'],
    routed: [1, 0],
    picked: ['dr_p2@acme'],
    state: ['settled', 'missing'],
  },
  imagesCounted: [2],
};

/**
 * Runs every Lua script of the store under `prefix`, each down the path where it does its
 * work (finishing a batch, upgrading and repairing old records, pruning, compare-and-delete),
 * and returns what it observed (compare with `EXERCISED`).
 */
export async function exerciseEveryScript(redis: RedisClient, prefix: string) {
  const keys = atelierKeys(prefix);
  const ledger = new BatchLedger(redis, prefix, {
    finishedAgeSec: HOUR_SEC,
    keyReuseBlockedSec: 2 * HOUR_SEC,
  });
  const created = await ledger.create('b1', 2, { keyed: true });
  const enqueued = await ledger.markEnqueued('b1', 2);
  const firstSettle = await ledger.settle('b1', done(0));
  const lastSettle = await ledger.settle('b1', dead(1));
  const finishedAt = lastSettle.finishedAt ?? -1;
  await ledger.markAnnounced('b1', finishedAt);
  const announced = await ledger.wasAnnounced('b1', finishedAt);
  const keyRefusedAfterExpiry = (await redis.pttl(keys.batch.gone('b1'))) > 2 * HOUR_SEC * 1000;
  const reopened = await ledger.reopen('b1', 1);

  // A batch without a key whose enqueuer sent items 0 and 1, counted item 0 and died: closed
  // by the next holder of its lease (item 1's job exists, item 2 was never sent).
  const bullmq = new QueueKeys(prefix);
  const drawing = { toKey: (type: string) => bullmq.toKey('drawing', type) };
  await ledger.create('b-cut', 3);
  const enqueuer = await RedisLease.acquire(redis, keys.batch.enqueueLease('b-cut'), 10_000);
  const sending = await ledger.sending('b-cut', enqueuer?.token ?? '', 2, 10_000);
  await ledger.markEnqueued('b-cut', 1);
  await redis.hset(drawing.toKey('dr_b-cut~1'), { data: '{"kind":"drawing"}' });
  const cut = await ledger.cut('b-cut', enqueuer?.token ?? '', {
    from: 1,
    jobKeys: [drawing.toKey('dr_b-cut~1')],
  });
  const notQueued = (await ledger.get('b-cut'))?.notQueued;

  // What upkeep finds: records from before the open set (one open, one finished without its
  // TTL), an open-set member whose batch is not open, an index entry whose record expired.
  const { batch } = keys;
  await redis.hset(batch.meta('legacy-open'), { total: '1', completed: '0', dead: '0' });
  await redis.hset(batch.meta('legacy-open'), { state: 'open', createdAt: '1' });
  await redis.zadd(batch.index, '1', 'legacy-open');
  await redis.hset(batch.meta('legacy-done'), { total: '1', completed: '1', dead: '0' });
  const completedAt = String(Date.now() - 1000);
  await redis.hset(batch.meta('legacy-done'), { state: 'completed', createdAt: '2', completedAt });
  await redis.hset(batch.items('legacy-done'), '0', 'c|{}');
  await redis.zadd(batch.index, '2', 'legacy-done');
  await redis.zadd(batch.index, '3', 'expired');
  await redis.sadd(batch.open, 'stray');
  const upkeep = await ledger.upkeep(Date.now() - 60_000);
  const openAfterUpkeep = (await redis.smembers(batch.open)).sort();
  const legacyDoneExpires =
    (await redis.pttl(batch.meta('legacy-done'))) > 0 &&
    (await redis.pttl(batch.items('legacy-done'))) > 0 &&
    (await redis.pttl(batch.gone('legacy-done'))) > 0;
  const index = (await redis.zrange(batch.index, '0', '-1')).sort();

  const deadLetters = new DeadLetterStore(redis, prefix);
  const entry = deadLetter('dl1', { meta: { enqueuedAt: T0, batchId: 'b1', batchIndex: 1 } });
  const inserted = [await deadLetters.insert(entry), await deadLetters.insert(entry)];
  const matched: string[] = [];
  for await (const ids of deadLetters.matchingIds({ batchId: 'b1', code: 'POLL_TIMEOUT' })) {
    matched.push(...ids);
  }
  const removed = (await deadLetters.remove('dl1', entry))?.id;
  const deadLettersLeft = (await deadLetters.list({ batchId: 'b1' })).total;

  const lease = await RedisLease.acquire(redis, keys.deadLetters.replayLease('dl1'), 10_000);
  const leaseRenewed = await lease?.renew();
  await lease?.release();
  const leaseLeft = await redis.exists(keys.deadLetters.replayLease('dl1'));

  // A replay's last step: the dead item's filing goes and the item (dead again) reopens.
  await ledger.settle('b1', dead(1));
  const replayed = deadLetter('dl2', { meta: { enqueuedAt: T0, batchId: 'b1', batchIndex: 1 } });
  await deadLetters.insert(replayed);
  const replayLease = await RedisLease.acquire(redis, keys.deadLetters.replayLease('dl2'), 10_000);
  const replayFinished = await finishReplay(redis, prefix, replayed, replayLease?.token ?? '');
  const afterReplay = await ledger.get('b1');
  const batchAfterReplay = { state: afterReplay?.state, dead: afterReplay?.dead };

  // A completed BullMQ job, written where BullMQ keeps it (BullMQ names its keys), and one
  // that does not exist (its snapshot looks in every place BullMQ could keep it).
  await redis.hset(drawing.toKey('dr_s1'), {
    data: '{"kind":"drawing"}',
    returnvalue: '{"images":["1.png"]}',
    atm: '1',
  });
  await redis.zadd(drawing.toKey('completed'), 1, 'dr_s1');
  const snapshots = new JobSnapshot(redis, prefix);
  const snapshot = await snapshots.read(drawing, 'dr_s1');
  const snapshotOfNone = await snapshots.read(drawing, 'dr_s2');
  const known = [await snapshots.known(drawing, 'dr_s1'), await snapshots.known(drawing, 'dr_s2')];

  // A job BullMQ failed, filed while it is still failed as read (then once more, and as if
  // it had been retried since).
  await redis.hset(drawing.toKey('dr_f1'), { data: '{}', finishedOn: '5', atm: '2' });
  await redis.zadd(drawing.toKey('failed'), 5, 'dr_f1');
  const failed = {
    failedKey: drawing.toKey('failed'),
    jobKey: drawing.toKey('dr_f1'),
    finishedOn: 5,
    attemptsMade: 2,
  };
  const failedEntry = deadLetter('dr_f1', { meta: { enqueuedAt: T0, batchId: 'b1' } });
  const filedIfFailed = [
    await deadLetters.insertIfFailed(failedEntry, failed),
    await deadLetters.insertIfFailed(failedEntry, failed),
    await deadLetters.insertIfFailed(failedEntry, { ...failed, finishedOn: 6 }),
  ];
  // A running job's writes, fenced by its lock (hash and lock where BullMQ keeps them): saved,
  // its batch item settled with its completion recorded, a dead letter filed — and each of
  // them refused under another token; then a compare-and-set of its data.
  const running = drawing.toKey('dr_r1');
  await redis.hset(running, { data: '{"kind":"drawing"}' });
  await redis.set(`${running}:lock`, 'token-1');
  const lock = { jobId: 'dr_r1', jobKey: running, token: 'token-1' };
  const stolen = { ...lock, token: 'token-2' };
  const fence = new JobFence(redis, prefix);
  await fence.save(lock, '{"kind":"drawing","state":{"polls":1}}');
  await ledger.create('b2', 1);
  await ledger.markEnqueued('b2', 1);
  const completion = { replays: 0, result: { images: ['f.png'] } };
  const fencedSettled = await ledger.settle('b2', done(0), { lock, completion });
  const filed = await deadLetters.insert(deadLetter('dr_r1'), lock);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'written',
      (error: { code?: string }) => error.code,
    );
  const refused = [
    await refusal(fence.save(stolen, '{}')),
    await refusal(ledger.settle('b2', dead(0), { lock: stolen })),
    await refusal(deadLetters.insert(deadLetter('dr_r2'), stolen)),
  ];
  const data = (await fence.read(running))?.data ?? '';
  const replaced = [
    await fence.replace(running, data, '{"kind":"drawing","state":{"polls":2}}'),
    await fence.replace(running, data, '{}'),
  ];
  const { deadLetter: _, ...ending } = await fence.ending(running, 'dr_r1');
  const steering = await exerciseSteering(redis, prefix, ledger, fence, drawing);
  const series = new TimeSeries(redis, prefix);
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  await series.add(new Map([[minute, new Map([[STATS_FIELD.images('default'), 2]])]]));
  const imagesCounted = (await series.series({ from: minute, to: minute + 60_000, stepMs: 60_000 }))
    .images.default;

  // Tenants: usage reserved (and refused past the limit), counted, cancelled, settled past its
  // deadline (a job that never came: given back; a batch fully queued: confirmed), images
  // given back and counted again once; dead letters entered into the tenant index; fair share
  // routed, taken in turn, and a taken id looked up.
  const usage = new TenantUsage(redis, prefix);
  const day = usageDay(Date.now());
  const job: Reservation = {
    kind: 'job',
    queue: 'drawing',
    id: 'dr_u1@acme',
    tenant: 'acme',
    day,
    images: 2,
    jobs: 1,
  };
  const reserved = [
    (await usage.reserve(job, 3, 0)).reserved,
    (await usage.reserve({ ...job, id: 'dr_u2@acme' }, 3, 0)).reserved,
  ];
  const cancel = { ...job, id: 'dr_u3@acme' };
  await usage.reserve(cancel, undefined, 0);
  const cancelled = await usage.cancel(cancel);
  await usage.count({ tenant: 'acme', day, images: 1, jobs: 1 });
  const batchUsage: Reservation = { ...job, kind: 'batch', id: 'b-u@acme', images: 3, jobs: 2 };
  await usage.reserve(batchUsage, undefined, 1);
  await ledger.create('b-u@acme', 2, { tenant: 'acme', usage: { day, reserved: 3 } });
  await ledger.markEnqueued('b-u@acme', 2, 3);
  const due = (await usage.due(Date.now())).map((r) => r.id);
  const settled = [
    await usage.settleDue(job, { jobKey: drawing.toKey(job.id), nextDeadline: 0 }),
    await usage.settleDue(batchUsage, { nextDeadline: 0 }),
  ];
  const unpaid = { id: 'dr_u5@acme', tenant: 'acme', day, images: 2 };
  await usage.count({ tenant: 'acme', day, images: 2, jobs: 1 });
  const givenBack = [await usage.giveBack(unpaid), await usage.giveBack(unpaid)];
  const recounted = [await usage.recount(unpaid), await usage.recount(unpaid)];
  await usage.giveBack(unpaid);

  await deadLetters.insert(deadLetter('dl-t1@acme', { meta: { enqueuedAt: T0, tenant: 'acme' } }));
  await redis.zrem(keys.deadLetters.byTenant('acme'), 'dl-t1@acme');
  await redis.del(keys.deadLetters.tenantsIndexed);
  await deadLetters.indexTenants();
  const indexed = await redis.zrange(keys.deadLetters.byTenant('acme'), '0', '-1');

  const fair = new FairQueue(redis, prefix, { name: 'drawing', toKey: drawing.toKey });
  await fair.register('w1', 1, 60_000);
  const first = await fair.route('acme', 501, 1, { kind: 'job', id: 'dr_p1@acme' });
  await redis.zadd(drawing.toKey('prioritized'), 501, 'dr_p1@acme'); // added, not started
  const routed = [first, await fair.route('acme', 501, 1, { kind: 'job', id: 'dr_p2@acme' })];
  await fair.register('w1', 5, 60_000);
  const picked = (await fair.pick({ acme: 2 }, 5)).ids;
  await redis.hset(drawing.toKey('dr_p3'), 'data', '{}');
  const state = [await fair.state('dr_p3'), await fair.state('dr_p4')];

  return {
    created,
    enqueued,
    firstSettle,
    lastSettle,
    announced,
    keyRefusedAfterExpiry,
    reopened,
    sending,
    cut,
    notQueued,
    upkeep,
    openAfterUpkeep,
    legacyDoneExpires,
    index,
    inserted,
    matched,
    removed,
    deadLettersLeft,
    leaseRenewed,
    leaseLeft,
    replayFinished,
    batchAfterReplay,
    snapshot,
    snapshotOfNone,
    known,
    filedIfFailed,
    fenced: { data, settled: fencedSettled, ending, filed, refused, replaced },
    steering,
    tenants: {
      reserved,
      cancelled,
      due,
      settled,
      givenBack,
      recounted,
      usage: await usage.read('acme', [day]),
      indexed,
      routed,
      picked,
      state,
    },
    imagesCounted,
  };
}

/**
 * Steering: a batch paused (a running item's submit refused and parked), resumed (the parked
 * item, still running, kept for the next round), cancelled (its submit refused; a round ends
 * the waiting item, the running one ends by its run, the batch is cancelled, a last round drops
 * it), one job cancelled while it waits, and a submit granted.
 */
async function exerciseSteering(
  redis: RedisClient,
  prefix: string,
  ledger: BatchLedger,
  fence: JobFence,
  drawing: { toKey(type: string): string },
) {
  const logger = createLogger({ name: 'exercise', level: 'silent' });
  const queue = new Queue('drawing', { connection: redis, prefix });
  try {
    const cancellation = new JobCancellation(redis, prefix, ledger.retention);
    const steering = new BatchSteering({
      redis,
      prefix,
      ledger,
      cancellation,
      queue,
      callbacks: new CallbackScheduler({ queue: undefined, logger }),
      logger,
    });
    await ledger.create('b3', 2);
    await ledger.markEnqueued('b3', 2);
    const [runningId, waitingId] = [batchItemJobId('b3', 0), batchItemJobId('b3', 1)];
    const runningKey = drawing.toKey(runningId);
    await redis.hset(runningKey, { data: '{"kind":"drawing"}' });
    await redis.set(`${runningKey}:lock`, 'token-3');
    const lock = { jobId: runningId, jobKey: runningKey, token: 'token-3' };
    await redis.hset(drawing.toKey(waitingId), { data: '{"kind":"drawing"}', priority: '501' });
    await redis.zadd(drawing.toKey('prioritized'), 501, waitingId);
    const intent = '{"kind":"drawing","state":{"polls":0,"submitIntentAt":1}}';

    const paused = (await steering.pause('b3')).state;
    const claimWhilePaused = await fence.claimSubmit(lock, intent, 'b3');
    const resumed = (await steering.resume('b3')).state;
    const releaseRound = await steering.tend('b3');
    const stillParked = await redis.scard(atelierKeys(prefix).batch.parked('b3'));
    const cancelling = (await steering.cancel('b3')).state;
    const claimWhileCancelled = await fence.claimSubmit(lock, intent, 'b3');
    const cancelRound = await steering.tend('b3');
    const endedRunning = await cancellation.settleRunning(lock, { batchId: 'b3', index: 0 });
    const after = await ledger.get('b3');
    const batch = { state: after?.state, cancelled: after?.cancelled, pending: after?.pending };
    const lastRound = await steering.tend('b3');

    await redis.hset(drawing.toKey('dr_c1'), { data: '{"kind":"drawing"}', priority: '101' });
    await redis.zadd(drawing.toKey('prioritized'), 101, 'dr_c1');
    const single = (await cancellation.cancelJob(drawing, { id: 'dr_c1', kind: 'drawing' })).answer;
    const other = { jobId: 'dr_g1', jobKey: drawing.toKey('dr_g1'), token: 'token-4' };
    await redis.hset(other.jobKey, { data: '{"kind":"drawing"}' });
    await redis.set(`${other.jobKey}:lock`, 'token-4');
    const granted = await fence.claimSubmit(other, intent);
    return {
      paused,
      claimWhilePaused,
      resumed,
      releaseRound,
      stillParked,
      cancelling,
      claimWhileCancelled,
      cancelRound,
      endedRunning,
      batch,
      lastRound,
      single,
      granted,
    };
  } finally {
    await queue.close();
  }
}
