import { describe, expect, it } from 'vitest';
import {
  type AcceptedJob,
  type ChaosObservations,
  chaosVerdict,
  formatChaosTable,
  type JobTruth,
} from './chaos-verdict.ts';

const ended = (apiState: 'completed' | 'dead', extra: Partial<JobTruth> = {}): JobTruth => ({
  apiState,
  bullState: apiState === 'completed' ? 'completed' : 'failed',
  deadLetter: apiState === 'dead',
  unconfirmedSubmits: 0,
  ...extra,
});

/** Two drawings (one in a batch of one), one CME job: all ended cleanly. */
function clean(): ChaosObservations {
  const accepted: AcceptedJob[] = [
    { id: 'dr_a', kind: 'drawing', text: 'chaos a', callback: true },
    { id: 'dr_b~0', kind: 'drawing', text: 'chaos b', batchId: 'b', batchIndex: 0, callback: true },
    { id: 'cm_c', kind: 'cme', callback: true },
  ];
  return {
    requested: 3,
    notAccepted: 0,
    accepted,
    truth: new Map([
      ['dr_a', ended('completed')],
      ['dr_b~0', ended('completed')],
      ['cm_c', ended('dead', { code: 'InvalidParameterValue.MaterialId' })],
    ]),
    paidTasks: [
      { text: 'chaos a', submittedAtMs: 1, answered: true },
      { text: 'chaos b', submittedAtMs: 2, answered: true },
    ],
    callbacks: [
      { event: 'job.completed', id: 'dr_a', deliveryId: 'dr_a.completed.0' },
      { event: 'job.completed', id: 'dr_b~0', deliveryId: 'dr_b~0.completed.0' },
      { event: 'job.dead', id: 'cm_c', deliveryId: 'cm_c.dead.0' },
    ],
    deadLetterInserts: new Map([['cm_c', 1]]),
    batches: [
      {
        id: 'b',
        reported: { total: 1, completed: 1, dead: 0, pending: 0, state: 'completed' },
        lines: new Map([[0, 'completed']]),
      },
    ],
    recoveries: [{ acceptingSeconds: 0.5, seconds: 1.5, lastState: 'completed' }],
    unavailableMs: [4, 2, 7, 3],
    kills: { workers: 5, redis: 1, cuts: 1, cutSeconds: 35, storms: 4 },
    exits: [
      {
        phase: 'Redis down',
        limitSeconds: 10,
        timings: [{ name: 'api', seconds: 0.2, code: 0, signal: null }],
      },
    ],
    recoveryLimitSeconds: 60,
  };
}

const row = (o: ChaosObservations, name: string) =>
  chaosVerdict(o).rows.find((r) => r.name === name);

describe('chaos verdict', () => {
  it('passes a run where every job ended once, paid once, and every process exited in time', () => {
    const verdict = chaosVerdict(clean());
    expect(verdict.failed).toEqual([]);
    expect(row(clean(), 'completed')?.value).toBe('2');
    expect(row(clean(), 'dead')?.value).toBe('1 (InvalidParameterValue.MaterialId 1)');
    expect(row(clean(), 'paid twice')).toMatchObject({ ok: true });
    expect(row(clean(), 'API while Redis was down')?.value).toBe(
      '4 answers 503: median 4 ms, p99 7 ms, slowest 7 ms',
    );
    expect(row(clean(), 'batch counters exact')).toEqual({
      name: 'batch counters exact',
      value: 'yes (1 batch)',
      ok: true,
    });
    expect(formatChaosTable(verdict)).toMatch(/^\| held \| measure +\| value \|\n\| ---- \|/);
  });

  it('lost: an accepted id nobody knows; stuck: known but not ended', () => {
    const o = clean();
    const truth = new Map(o.truth);
    truth.set('dr_a', { ...ended('completed'), apiState: 'missing', bullState: 'missing' });
    truth.set('cm_c', { ...ended('dead'), apiState: 'retrying', bullState: 'delayed' });
    const verdict = chaosVerdict({ ...o, truth });
    expect(verdict.failed).toEqual(expect.arrayContaining(['lost', 'stuck']));
    expect(row({ ...o, truth }, 'lost')?.value).toBe('1 (dr_a)');
    expect(row({ ...o, truth }, 'stuck')?.value).toBe('1 (cm_c:retrying)');
  });

  it('paid twice: more than one task for a job, split by whether a taskId had been answered', () => {
    const o = clean();
    const paidTasks = [
      ...o.paidTasks,
      { text: 'chaos a', submittedAtMs: 3, answered: true },
      { text: 'chaos b', submittedAtMs: 4, answered: false },
      { text: 'chaos b', submittedAtMs: 5, answered: true },
    ];
    const withLostAnswer = paidTasks.map((t) =>
      t.text === 'chaos b' && t.submittedAtMs === 2 ? { ...t, answered: false } : t,
    );
    expect(row({ ...o, paidTasks: withLostAnswer }, 'paid twice')).toEqual({
      name: 'paid twice',
      value:
        '2 jobs, 3 extra tasks; 1 paid again after their taskId was answered, 1 after ' +
        'unanswered submits only (dr_a, dr_b~0)',
      ok: false,
    });
  });

  it('dead-lettered twice: two inserts, or two distinct job.dead deliveries', () => {
    const o = clean();
    const inserts = new Map([['cm_c', 2]]);
    expect(row({ ...o, deadLetterInserts: inserts }, 'dead-lettered twice')?.ok).toBe(false);
    const redelivered = [
      ...o.callbacks,
      { event: 'job.dead', id: 'cm_c', deliveryId: 'cm_c.dead.0' },
    ];
    expect(row({ ...o, callbacks: redelivered }, 'dead-lettered twice')?.ok).toBe(true);
    expect(row({ ...o, callbacks: redelivered }, 'callbacks (figures)')?.value).toContain(
      '1 deliveries received more than once',
    );
    const second = [...o.callbacks, { event: 'job.dead', id: 'cm_c', deliveryId: 'cm_c.dead.1' }];
    expect(row({ ...o, callbacks: second }, 'dead-lettered twice')?.value).toBe('1 (cm_c)');
  });

  it('names ended jobs whose callback never came (a figure, not an invariant)', () => {
    const o = clean();
    const callbacks = o.callbacks.filter((c) => c.id !== 'cm_c');
    expect(chaosVerdict({ ...o, callbacks }).failed).toEqual([]);
    expect(row({ ...o, callbacks }, 'callbacks (figures)')?.value).toBe(
      '2 verified deliveries; 1 ended jobs without their callback (cm_c); 0 deliveries received more than once (at-least-once)',
    );
  });

  it('completed-and-dead: completed in BullMQ with a dead letter, or both callbacks', () => {
    const o = clean();
    const truth = new Map(o.truth);
    truth.set('dr_a', { ...ended('dead'), bullState: 'completed' });
    expect(row({ ...o, truth }, 'completed-and-dead')?.value).toBe('1 (dr_a)');
    const callbacks = [...o.callbacks, { event: 'job.dead', id: 'dr_b~0', deliveryId: 'x' }];
    expect(row({ ...o, callbacks }, 'completed-and-dead')?.value).toBe('1 (dr_b~0)');
  });

  it('batch counters exact: counters and result lines must equal the items’ final states', () => {
    const o = clean();
    const [batch] = o.batches;
    if (!batch) throw new Error('no batch');
    const counted = { ...batch, reported: { ...batch.reported, completed: 0, dead: 1 } };
    expect(row({ ...o, batches: [counted] }, 'batch counters exact')).toMatchObject({
      value: 'no: b completed 0 ≠ 1; b dead 1 ≠ 0',
      ok: false,
    });
    const flipped = { ...batch, lines: new Map([[0, 'dead']]) };
    expect(row({ ...o, batches: [flipped] }, 'batch counters exact')?.value).toBe(
      'no: b item 0: line dead, job completed',
    );
  });

  it('fails on requests never accepted, a Redis that never recovered, and a slow or hung exit', () => {
    const o = clean();
    const verdict = chaosVerdict({
      ...o,
      notAccepted: 1,
      recoveries: [{ acceptingSeconds: 0.4, seconds: undefined, lastState: 'running' }],
      exits: [
        {
          phase: 'Redis down',
          limitSeconds: 10,
          timings: [
            { name: 'api', seconds: 10.5, code: 0, signal: null },
            { name: 'worker-1', seconds: undefined, code: null, signal: 'SIGKILL' },
          ],
        },
      ],
    });
    expect(verdict.failed).toEqual([
      'accepted',
      'seconds to recover after Redis restarts',
      'exit after SIGTERM, Redis down',
    ]);
    expect(verdict.rows.find((r) => r.name.startsWith('seconds to recover'))?.value).toBe(
      'never (probe running) (API accepting after 0.4 s; limit 60 s)',
    );
    expect(verdict.rows.at(-1)?.value).toBe('api 10.5 s, worker-1 hung (SIGKILLed) (limit 10 s)');
  });
});
