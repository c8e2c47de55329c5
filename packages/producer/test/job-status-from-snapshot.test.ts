import type { DeadLetter, DrawingJobData, DrawingResult } from '@atelier/shared';
import type { BullmqJobState, JobRecord, JobSnapshotView } from '@atelier/store';
import { describe, expect, it } from 'vitest';
import { isTerminalState } from '../src/lib/job-status.ts';
import { jobStatusFromSnapshot } from '../src/lib/job-status-from-snapshot.ts';

const ID = 'dr_1';
const DATA: DrawingJobData = {
  kind: 'drawing',
  task: { text: 'a cat', style: '油画', resolution: '1024*1024', num: 1 },
  meta: { enqueuedAt: 1 },
};
const RESULT: DrawingResult = {
  taskId: 'task-1',
  images: ['https://img.example/1.png'],
  polls: 2,
  submittedAt: 1,
  finishedAt: 2,
};
const ENTRY: DeadLetter = {
  id: ID,
  queue: 'drawing',
  kind: 'drawing',
  code: '202',
  message: 'content refused',
  attempts: 3,
  history: [],
  request: DATA.task,
  meta: { enqueuedAt: 1 },
  failedAt: 5,
};

function job(fields: Partial<JobRecord> = {}): JobRecord {
  return { data: DATA, attemptsMade: 0, ...fields };
}

function snapshot(
  state: BullmqJobState,
  record: JobRecord | undefined = job(),
  deadLetter?: DeadLetter,
): JobSnapshotView {
  return { state, job: record, deadLetter };
}

const status = (s: JobSnapshotView) => jobStatusFromSnapshot(ID, 'drawing', s);

describe('jobStatusFromSnapshot', () => {
  it('finds no job when there is neither a job nor a dead letter, or BullMQ has it nowhere', () => {
    expect(status(snapshot('unknown', undefined))).toBeUndefined();
    expect(status(snapshot('unknown'))).toBeUndefined();
  });

  it('says queued, polling or retrying for a job that is waiting, from its data', () => {
    for (const state of ['waiting', 'prioritized', 'delayed', 'waiting-children'] as const) {
      expect(status(snapshot(state)), state).toEqual({
        id: ID,
        kind: 'drawing',
        state: 'queued',
        attempts: 0,
      });
    }
    const submitted = { ...DATA, state: { taskId: 'task-1', polls: 1, submittedAt: 1 } };
    expect(status(snapshot('delayed', job({ data: submitted })))?.state).toBe('polling');
    const failure = { attempt: 1, at: 1, code: 'HTTP_503', message: 'unavailable' };
    const retried = { ...DATA, history: [failure] };
    expect(status(snapshot('delayed', job({ data: retried, attemptsMade: 1 })))).toEqual({
      id: ID,
      kind: 'drawing',
      state: 'retrying',
      attempts: 1,
      error: { code: 'HTTP_503', message: 'unavailable' },
    });
  });

  it('says running for an active job', () => {
    expect(status(snapshot('active', job({ attemptsMade: 1 })))).toEqual({
      id: ID,
      kind: 'drawing',
      state: 'running',
      attempts: 1,
    });
  });

  it('says completed with the result', () => {
    expect(status(snapshot('completed', job({ returnvalue: RESULT, attemptsMade: 1 })))).toEqual({
      id: ID,
      kind: 'drawing',
      state: 'completed',
      attempts: 1,
      result: RESULT,
    });
  });

  it('says dead with the code of a failed job, and with the dead letter once it is filed', () => {
    const failed = job({ failedReason: '[POLL_TIMEOUT] gave up', attemptsMade: 2 });
    expect(status(snapshot('failed', failed))).toEqual({
      id: ID,
      kind: 'drawing',
      state: 'dead',
      attempts: 2,
      error: { code: 'POLL_TIMEOUT', message: 'gave up' },
    });
    const dead = {
      id: ID,
      kind: 'drawing',
      state: 'dead',
      attempts: 3,
      error: { code: '202', message: 'content refused' },
    };
    // Filed while the job is still active (the worker files it first), after it failed, and
    // after retention removed the job.
    expect(status(snapshot('active', job(), ENTRY))).toEqual(dead);
    expect(status(snapshot('failed', failed, ENTRY))).toEqual(dead);
    expect(status(snapshot('unknown', undefined, ENTRY))).toEqual(dead);
  });

  it('says cancelled, with CANCELLED and who cancelled, as soon as the cancel ended the job', () => {
    const cancelled = {
      cancelled: true as const,
      cancelledAt: Date.UTC(2026, 0, 2),
      by: 'batch' as const,
    };
    const answer = {
      id: ID,
      kind: 'drawing',
      state: 'cancelled',
      attempts: 0,
      error: {
        code: 'CANCELLED',
        message:
          'its batch was cancelled (2026-01-02T00:00:00.000Z) before it was submitted: nothing was paid',
      },
    };
    // Ended by its run (BullMQ not done yet), then completed with the cancel as its result.
    expect(status(snapshot('active', job({ cancelled })))).toEqual(answer);
    expect(
      status(snapshot('completed', job({ cancelled, returnvalue: cancelled as never }))),
    ).toEqual(answer);
    const byJob = status(snapshot('completed', job({ cancelled: { ...cancelled, by: 'job' } })));
    expect(byJob?.error?.message).toMatch(/^it was cancelled /);
  });

  it('leaves a dead letter filed before a replay to the replayed job', () => {
    const replayed = job({ data: { ...DATA, meta: { ...DATA.meta, replays: 1 } } });
    expect(status(snapshot('prioritized', replayed, ENTRY))?.state).toBe('queued');
    const done = { ...replayed, returnvalue: RESULT, attemptsMade: 1 };
    expect(status(snapshot('completed', done, ENTRY))).toMatchObject({
      state: 'completed',
      result: RESULT,
    });
    // Filed again by the replayed run: dead again.
    const again = { ...ENTRY, meta: { ...ENTRY.meta, replays: 1 } };
    expect(status(snapshot('active', replayed, again))?.state).toBe('dead');
  });

  it('never answers a terminal state without its outcome: running until the outcome is there', () => {
    for (const returnvalue of [undefined, null]) {
      const record = job({ attemptsMade: 1 });
      if (returnvalue === null) record.returnvalue = null as unknown as DrawingResult;
      expect(status(snapshot('completed', record)), String(returnvalue)).toEqual({
        id: ID,
        kind: 'drawing',
        state: 'running',
        attempts: 1,
      });
    }
  });

  it('answers every terminal state with its outcome, whatever the snapshot', () => {
    const states: BullmqJobState[] = [
      'completed',
      'failed',
      'delayed',
      'prioritized',
      'active',
      'waiting',
      'waiting-children',
      'unknown',
    ];
    const records: Array<JobRecord | undefined> = [
      undefined,
      job(),
      job({ returnvalue: RESULT, attemptsMade: 1 }),
      job({ failedReason: '[E] no', attemptsMade: 1 }),
      job({ failedReason: '', attemptsMade: 1 }),
      job({ data: {} as DrawingJobData }),
      job({ cancelled: { cancelled: true, cancelledAt: 1, by: 'job' } }),
    ];
    const seen = new Set<string>();
    for (const state of states) {
      for (const record of records) {
        for (const entry of [undefined, ENTRY]) {
          const answer = status(snapshot(state, record, entry));
          if (!answer || !isTerminalState(answer.state)) continue;
          seen.add(answer.state);
          const outcome = answer.state === 'completed' ? answer.result : answer.error;
          expect(outcome, `${state} ${JSON.stringify(record)} ${entry?.code}`).toBeTruthy();
          if (answer.state === 'cancelled') expect(answer.error?.code).toBe('CANCELLED');
        }
      }
    }
    expect([...seen].sort()).toEqual(['cancelled', 'completed', 'dead']);
  });
});
