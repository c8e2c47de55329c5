import { describe, expect, it } from 'vitest';
import { explainPaidTwice } from './chaos-diagnosis.ts';

describe('paid-twice diagnosis', () => {
  it('names the event right after the first paid submit', () => {
    const task = (text: string, at: number, answered = true) => ({
      text,
      submittedAtMs: at,
      answered,
    });
    const causes = explainPaidTwice(
      [
        task('killed', 1_000),
        task('killed', 70_000),
        task('cut', 20_000),
        task('cut', 50_000),
        task('cut, unanswered', 21_000, false),
        task('cut, unanswered', 50_000),
        task('lost', 30_000, false),
        task('lost', 31_000),
        task('wave', 90_000),
        task('wave', 95_000),
        task('once', 5_000),
      ],
      [
        { at: 1_040, what: 'worker-kill' },
        { at: 19_000, what: 'cut' },
        { at: 25_000, what: 'restore' },
        { at: 89_000, what: 'wave' },
        { at: 90_500, what: 'shutdown' },
      ],
    );
    expect(causes).toEqual(
      expect.arrayContaining([
        { cause: 'answered, then the worker was SIGKILLed', jobs: 1, rangeMs: [40, 40] },
        { cause: 'answered during a proxy cut (lock lost)', jobs: 1 },
        {
          cause: 'answer never went out (worker killed mid-call, timeout, reset), paid again',
          jobs: 2,
        },
        { cause: 'in flight at SIGTERM with Redis down', jobs: 1 },
      ]),
    );
    expect(causes).toHaveLength(4);
  });
});
