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
        task('slow', 61_000, false),
        task('slow', 62_000),
        task('redis', 70_500),
        task('redis', 80_000),
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
        { at: 60_000, what: 'late-answers' },
        { at: 66_000, what: 'calm' },
        { at: 71_000, what: 'redis-kill' },
        { at: 75_000, what: 'redis-ready' },
        { at: 89_000, what: 'wave' },
        { at: 90_500, what: 'shutdown' },
      ],
    );
    expect(causes.map(({ samples: _, ...cause }) => cause)).toEqual(
      expect.arrayContaining([
        { cause: 'answered, then the worker was SIGKILLed', jobs: 1, rangeMs: [40, 40] },
        { cause: 'answered during a proxy cut (lock lost)', jobs: 1 },
        { cause: 'answer never went out (its worker died mid-call), submitted again', jobs: 2 },
        { cause: 'answered after the timeout (storm), submitted again', jobs: 1 },
        { cause: 'answered as Redis was SIGKILLed', jobs: 1 },
        { cause: 'in flight at SIGTERM with Redis down', jobs: 1 },
      ]),
    );
    expect(causes).toHaveLength(6);
    expect(causes.find((c) => c.jobs === 2)?.samples).toEqual(['cut, unanswered', 'lost']);
  });
});
