import type { ExitTiming } from './chaos-process.ts';

/** A job the API answered `202` for. */
export interface AcceptedJob {
  id: string;
  kind: 'drawing' | 'cme';
  /** A drawing's text: unique per job, so the provider's tasks tell which job paid. */
  text?: string;
  batchId?: string;
  batchIndex?: number;
  /** Enqueued with the harness's callback URL. */
  callback: boolean;
}

/** Where a job ended up, read once everything drained. */
export interface JobTruth {
  /** `GET /v1/jobs/{id}`; `missing` for a 404. */
  apiState: string;
  /** BullMQ's own state of the job (`completed`, `failed`, `delayed`, … or `missing`). */
  bullState: string;
  /** A dead-letter entry exists for the id. */
  deadLetter: boolean;
  /** `unconfirmedSubmits` in the drawing job's data (Atelier's own count). */
  unconfirmedSubmits: number;
  /** The dead letter's code, or the last error's. */
  code?: string;
}

/** One task the drawing provider created (what it bills), in creation order. */
export interface PaidTask {
  text: string;
  submittedAtMs: number;
  /** The submit answer carrying its taskId was handed to the caller's connection. */
  answered: boolean;
}

/** One verified callback request the harness's receiver got. */
export interface CallbackSeen {
  event: string;
  /** The job id, or the batch id for `batch.completed`. */
  id: string;
  deliveryId: string;
}

export interface BatchTruth {
  id: string;
  /** `GET /v1/batches/{id}` (undefined: 404). */
  reported: { total: number; completed: number; dead: number; pending: number; state: string };
  /** `GET /v1/batches/{id}/results`, by item index. */
  lines: Map<number, string>;
}

export interface RedisRecovery {
  /** Seconds from Redis ready to the API's first `202` after it. */
  acceptingSeconds: number | undefined;
  /** Seconds from Redis ready until a job enqueued then had completed; undefined: never. */
  seconds: number | undefined;
  /** The probe job's last state seen (`GET /v1/jobs/{id}`). */
  lastState: string;
}

export interface ExitCheck {
  phase: string;
  limitSeconds: number;
  timings: ExitTiming[];
}

export interface ChaosObservations {
  /** Requests sent (each until accepted, with its idempotency key) and never accepted. */
  requested: number;
  notAccepted: number;
  accepted: AcceptedJob[];
  truth: ReadonlyMap<string, JobTruth>;
  /** Tasks the provider created for this run's texts. */
  paidTasks: PaidTask[];
  callbacks: CallbackSeen[];
  /** `job dead-lettered` log lines (one per dead-letter insert) per job id, all workers. */
  deadLetterInserts: ReadonlyMap<string, number>;
  batches: BatchTruth[];
  recoveries: RedisRecovery[];
  /** How long each `503` answer (Redis unavailable) took, in ms. */
  unavailableMs: number[];
  kills: { workers: number; redis: number; cuts: number; cutSeconds: number; storms: number };
  exits: ExitCheck[];
  /** How long after Redis came back a recovery may take before it counts as failed. */
  recoveryLimitSeconds: number;
}

export interface ChaosRow {
  name: string;
  value: string;
  /** Invariants only: whether it held. Rows without it are figures. */
  ok?: boolean;
}

export interface ChaosVerdict {
  rows: ChaosRow[];
  /** Names of the invariants that failed (empty: the run passed). */
  failed: string[];
}

const FINAL = new Set(['completed', 'dead']);

/**
 * Turns what a chaos run saw into its table. Definitions:
 * - lost: accepted, and at the end neither a job nor a dead letter knows the id (404);
 * - stuck: accepted and known, but not completed or dead when the drain deadline passed;
 * - paid twice: the provider created more than one task for one job's text; split by whether
 *   a taskId had already been answered before the job paid again;
 * - dead-lettered twice: more than one dead-letter insert logged, or more than one distinct
 *   `job.dead` delivery, for one job;
 * - completed-and-dead: BullMQ completed the job and it has a dead letter, or both a
 *   `job.completed` and a `job.dead` callback came for it;
 * - batch counters exact: each batch's counters and result lines equal its items' final states.
 */
export function chaosVerdict(o: ChaosObservations): ChaosVerdict {
  const rows: ChaosRow[] = [];
  const byId = new Map(o.accepted.map((job) => [job.id, job]));
  const states = [...byId.keys()].map((id) => ({ id, truth: o.truth.get(id) }));
  const stateOf = (id: string) => o.truth.get(id)?.apiState ?? 'missing';
  const sample = (ids: string[]) =>
    ids.length === 0 ? '' : ` (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`;

  const drawings = o.accepted.filter((j) => j.kind === 'drawing');
  const batchItems = drawings.filter((j) => j.batchId !== undefined).length;
  rows.push({
    name: 'accepted',
    value:
      `${o.accepted.length} of ${o.requested} jobs (${drawings.length} drawings, ${batchItems} of them ` +
      `in batches; ${o.accepted.length - drawings.length} CME)`,
    ok: o.notAccepted === 0,
  });

  const completed = states.filter((s) => s.truth?.apiState === 'completed');
  const dead = states.filter((s) => s.truth?.apiState === 'dead');
  rows.push({ name: 'completed', value: String(completed.length) });
  rows.push({ name: 'dead', value: `${dead.length}${codes(dead.map((s) => s.truth?.code))}` });
  const lost = states.filter((s) => stateOf(s.id) === 'missing').map((s) => s.id);
  const stuck = states
    .filter((s) => !FINAL.has(stateOf(s.id)) && stateOf(s.id) !== 'missing')
    .map((s) => `${s.id}:${stateOf(s.id)}`);
  rows.push({ name: 'stuck', value: `${stuck.length}${sample(stuck)}`, ok: stuck.length === 0 });
  rows.push({ name: 'lost', value: `${lost.length}${sample(lost)}`, ok: lost.length === 0 });

  const tasksByText = new Map<string, PaidTask[]>();
  for (const task of o.paidTasks) {
    const list = tasksByText.get(task.text) ?? [];
    list.push(task);
    tasksByText.set(task.text, list);
  }
  const jobByText = new Map(drawings.map((j) => [j.text, j.id]));
  const paidTwice: string[] = [];
  let extraTasks = 0;
  let afterAnswer = 0;
  for (const [text, tasks] of tasksByText) {
    if (tasks.length < 2) continue;
    paidTwice.push(jobByText.get(text) ?? `text "${text}"`);
    extraTasks += tasks.length - 1;
    if (tasks.slice(0, -1).some((t) => t.answered)) afterAnswer++;
  }
  rows.push({
    name: 'paid twice',
    value:
      `${paidTwice.length} jobs, ${extraTasks} extra tasks; ${afterAnswer} paid again after their ` +
      `taskId was answered, ${paidTwice.length - afterAnswer} after unanswered submits only${sample(paidTwice)}`,
    ok: paidTwice.length === 0,
  });

  const unconfirmed = drawings.filter((j) => (o.truth.get(j.id)?.unconfirmedSubmits ?? 0) > 0);
  const submitUnconfirmed = dead.filter((s) => s.truth?.code === 'SUBMIT_UNCONFIRMED').length;
  const unanswered = o.paidTasks.filter((t) => !t.answered).length;
  rows.push({
    name: 'unconfirmed submits',
    value:
      `${unconfirmed.length} jobs counted some (${submitUnconfirmed} dead SUBMIT_UNCONFIRMED); ` +
      `the provider created ${unanswered} tasks whose answer never went out`,
  });

  const deadDeliveries = new Map<string, Set<string>>();
  const completedCallbacks = new Set<string>();
  const deadCallbacks = new Set<string>();
  const deliveries = new Map<string, number>();
  for (const c of o.callbacks) {
    deliveries.set(c.deliveryId, (deliveries.get(c.deliveryId) ?? 0) + 1);
    if (c.event === 'job.completed') completedCallbacks.add(c.id);
    if (c.event === 'job.dead') {
      deadCallbacks.add(c.id);
      const ids = deadDeliveries.get(c.id) ?? new Set<string>();
      ids.add(c.deliveryId);
      deadDeliveries.set(c.id, ids);
    }
  }
  const deadTwice = [...byId.keys()].filter(
    (id) => (o.deadLetterInserts.get(id) ?? 0) > 1 || (deadDeliveries.get(id)?.size ?? 0) > 1,
  );
  rows.push({
    name: 'dead-lettered twice',
    value: `${deadTwice.length}${sample(deadTwice)}`,
    ok: deadTwice.length === 0,
  });
  const both = [...byId.keys()].filter(
    (id) =>
      (o.truth.get(id)?.bullState === 'completed' && o.truth.get(id)?.deadLetter) ||
      (completedCallbacks.has(id) && deadCallbacks.has(id)),
  );
  rows.push({
    name: 'completed-and-dead',
    value: `${both.length}${sample(both)}`,
    ok: both.length === 0,
  });

  const batchProblems = o.batches.flatMap((b) => batchMismatches(b, o.accepted, stateOf));
  rows.push({
    name: 'batch counters exact',
    value:
      batchProblems.length === 0
        ? `yes (${o.batches.length} batch${o.batches.length === 1 ? '' : 'es'})`
        : `no: ${batchProblems.slice(0, 3).join('; ')}${batchProblems.length > 3 ? '; …' : ''}`,
    ok: batchProblems.length === 0,
  });

  const missing = jobsWithoutCallback(o.accepted, o.truth, o.callbacks);
  const redelivered = [...deliveries.values()].filter((n) => n > 1).length;
  rows.push({
    name: 'callbacks (figures)',
    value:
      `${o.callbacks.length} verified deliveries; ${missing.length} ended jobs without their ` +
      `callback${sample(missing)}; ${redelivered} deliveries received more than once (at-least-once)`,
  });

  const recovered = o.recoveries.every(
    (r) => r.seconds !== undefined && r.seconds <= o.recoveryLimitSeconds,
  );
  rows.push({
    name: 'seconds to recover after Redis restarts',
    value:
      o.recoveries.length === 0
        ? 'no restart'
        : `${o.recoveries.map((r) => (r.seconds === undefined ? `never (probe ${r.lastState})` : seconds(r.seconds))).join(', ')} (API accepting after ` +
          `${o.recoveries.map((r) => seconds(r.acceptingSeconds)).join(', ')}; limit ${o.recoveryLimitSeconds} s)`,
    ok: recovered,
  });
  const took = [...o.unavailableMs].sort((a, b) => a - b);
  const ms = (q: number) =>
    Math.round(took[Math.min(took.length - 1, Math.floor(q * took.length))] ?? 0);
  rows.push({
    name: 'API while Redis was down',
    value: `${took.length} answers 503: median ${ms(0.5)} ms, p99 ${ms(0.99)} ms, slowest ${ms(1)} ms`,
  });
  rows.push({
    name: 'kills done',
    value:
      `${o.kills.workers} worker SIGKILLs, ${o.kills.redis} Redis SIGKILLs, ${o.kills.cuts} proxy ` +
      `cuts (${Math.round(o.kills.cutSeconds)} s), ${o.kills.storms} provider storms`,
  });
  for (const check of o.exits) {
    const slow = check.timings.filter(
      (t) => t.seconds === undefined || t.seconds > check.limitSeconds,
    );
    rows.push({
      name: `exit after SIGTERM, ${check.phase}`,
      value: `${check.timings.map(exitText).join(', ')} (limit ${check.limitSeconds} s)`,
      ok: slow.length === 0,
    });
  }

  return { rows, failed: rows.filter((r) => r.ok === false).map((r) => r.name) };
}

/** Jobs that ended (completed or dead) with a callback URL and no callback for that end. */
export function jobsWithoutCallback(
  accepted: readonly AcceptedJob[],
  truth: ReadonlyMap<string, JobTruth>,
  callbacks: readonly CallbackSeen[],
): string[] {
  const seen = new Set(callbacks.map((c) => `${c.event} ${c.id}`));
  return accepted
    .filter((job) => {
      const state = truth.get(job.id)?.apiState ?? 'missing';
      return job.callback && FINAL.has(state) && !seen.has(`job.${state} ${job.id}`);
    })
    .map((job) => job.id);
}

function batchMismatches(
  batch: BatchTruth,
  accepted: AcceptedJob[],
  stateOf: (id: string) => string,
): string[] {
  const items = accepted.filter((j) => j.batchId === batch.id);
  const truth = { completed: 0, dead: 0, pending: 0 };
  const problems: string[] = [];
  for (const item of items) {
    const state = stateOf(item.id);
    const settled = state === 'completed' || state === 'dead' ? state : 'pending';
    truth[settled]++;
    const line = batch.lines.get(item.batchIndex ?? -1);
    if (line !== settled)
      problems.push(`${batch.id} item ${item.batchIndex}: line ${line}, job ${state}`);
  }
  const r = batch.reported;
  const expected = {
    total: items.length,
    ...truth,
    state: truth.pending === 0 ? 'completed' : 'open',
  };
  const counters = (['total', 'completed', 'dead', 'pending', 'state'] as const)
    .filter((field) => r[field] !== expected[field])
    .map((field) => `${batch.id} ${field} ${r[field]} ≠ ${expected[field]}`);
  return [...counters, ...problems];
}

function codes(list: Array<string | undefined>): string {
  const counts = new Map<string, number>();
  for (const code of list) counts.set(code ?? '?', (counts.get(code ?? '?') ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1]);
  return top.length === 0 ? '' : ` (${top.map(([c, n]) => `${c} ${n}`).join(', ')})`;
}

function exitText(timing: ExitTiming): string {
  return `${timing.name} ${timing.seconds === undefined ? 'hung (SIGKILLed)' : seconds(timing.seconds)}`;
}

function seconds(value: number | undefined): string {
  return value === undefined ? 'never' : `${value.toFixed(1)} s`;
}

/** The table (Markdown): one row per measure; invariants say ok or FAIL. */
export function formatChaosTable(verdict: ChaosVerdict): string {
  const width = Math.max(...verdict.rows.map((r) => r.name.length));
  const lines = [
    `| held | ${'measure'.padEnd(width)} | value |`,
    `| ---- | ${'-'.repeat(width)} | ----- |`,
  ];
  for (const r of verdict.rows) {
    const mark = r.ok === undefined ? '    ' : r.ok ? 'ok  ' : 'FAIL';
    lines.push(`| ${mark} | ${r.name.padEnd(width)} | ${r.value} |`);
  }
  return lines.join('\n');
}
