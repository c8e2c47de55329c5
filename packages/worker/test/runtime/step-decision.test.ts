import { AtelierError, type AttemptRecord, type FailureKind, ProviderError } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/runtime/step.ts';
import {
  type DecisionPolicy,
  decideStep,
  failureKind,
  HALT_RECHECK_MS,
  type JobFacts,
} from '../../src/runtime/step-decision.ts';

interface JobRecord {
  n: number;
  history?: AttemptRecord[];
}
type TestStep = Step<JobRecord, string>;

const NOW = 1_700_000_000_000;
const JOBS: DecisionPolicy = { maxHistory: 3, queueWide: { throttleMs: 4000 } };
const CALLBACKS: DecisionPolicy = { maxHistory: 0 };

function facts(fields: Partial<JobFacts<JobRecord>> = {}): JobFacts<JobRecord> {
  return { record: { n: 0 }, attemptsMade: 0, maxAttempts: 5, now: NOW, ...fields };
}

function providerError(
  kind: FailureKind,
  extra: { retryAfterMs?: number; retryLimit?: number } = {},
) {
  return new ProviderError(`a ${kind} answer`, {
    provider: 'drawing',
    kind,
    code: `X_${kind}`,
    ...extra,
  });
}

const attempt = (n: number, error: AtelierError): AttemptRecord => ({
  attempt: n,
  at: NOW,
  code: error.code,
  message: error.message,
});

describe('failureKind: one vocabulary, read off the error', () => {
  it.each(['retryable', 'throttled', 'outage', 'auth', 'terminal', 'config'] as const)(
    'a ProviderError says its own kind (%s)',
    (kind) => {
      expect(failureKind(providerError(kind))).toBe(kind);
    },
  );

  it('an AtelierError is retryable or terminal by its retryable flag', () => {
    expect(failureKind(new AtelierError('x', { code: 'A', retryable: true }))).toBe('retryable');
    expect(failureKind(new AtelierError('x', { code: 'A' }))).toBe('terminal');
  });
});

describe('decideStep: complete and wait', () => {
  it('completes with the result', () => {
    expect(decideStep({ type: 'complete', result: 'images' }, facts(), JOBS)).toEqual({
      action: 'complete',
      result: 'images',
    });
  });

  it('a cancelled step ends the job unpaid (no attempt, no history)', () => {
    expect(decideStep({ type: 'cancelled' }, facts(), JOBS)).toEqual({ action: 'cancelled' });
  });

  it('a wait delays the job with its record, reason and priority; no attempt, no history', () => {
    const record = { n: 1 };
    const step: TestStep = {
      type: 'wait',
      reason: 'poll',
      untilMs: NOW + 5000,
      record,
      priority: 7,
    };
    const decision = decideStep(step, facts(), JOBS);
    expect(decision).toEqual({
      action: 'delay',
      reason: 'poll',
      untilMs: NOW + 5000,
      record,
      priority: 7,
    });
    if (decision.action === 'delay') expect(decision.record).toBe(record);
  });

  it('a wait that holds the queue holds it until then, and not once that moment has passed', () => {
    const step = (holdQueueUntilMs: number): TestStep => ({
      type: 'wait',
      reason: 'maintenance',
      untilMs: NOW + 9000,
      record: { n: 1 },
      holdQueueUntilMs,
    });
    expect(decideStep(step(NOW + 8000), facts(), JOBS)).toMatchObject({ holdQueueForMs: 8000 });
    expect(decideStep(step(NOW), facts(), JOBS)).not.toHaveProperty('holdQueueForMs');
  });

  it('a noted failure goes into the history as attempt 0, newest kept', () => {
    const note = providerError('outage');
    const old = [1, 2, 3].map((n) => ({ attempt: n, at: 1, code: 'OLD', message: 'old' }));
    const step: TestStep = {
      type: 'wait',
      reason: 'maintenance',
      untilMs: NOW + 1000,
      record: { n: 1, history: old },
      note,
    };
    const decision = decideStep(step, facts(), JOBS);
    expect(decision).toMatchObject({
      action: 'delay',
      record: { n: 1, history: [old[1], old[2], attempt(0, note)] },
    });
    // Without history (callbacks) the record stays the very same object.
    const bare = decideStep(step, facts(), CALLBACKS);
    expect(bare.action === 'delay' && bare.record).toBe(step.record);
  });
});

describe('decideStep: failures of a job queue (drawing, CME)', () => {
  it('throttled slows the whole queue for the hint, else the configured pause; no attempt used', () => {
    const hinted = providerError('throttled', { retryAfterMs: 1500 });
    expect(decideStep({ type: 'retry', error: hinted }, facts(), JOBS)).toEqual({
      action: 'slow-queue',
      error: hinted,
      forMs: 1500,
      record: { n: 0 },
    });
    const bare = providerError('throttled');
    const f = facts();
    const decision = decideStep({ type: 'retry', error: bare }, f, JOBS);
    expect(decision).toMatchObject({ action: 'slow-queue', forMs: 4000 });
    // Nothing new to save: the stored record itself, so nothing is written.
    expect(decision.action === 'slow-queue' && decision.record).toBe(f.record);
  });

  it('config halts the queue and keeps the job, checked again a moment later', () => {
    const error = providerError('config');
    const record = { n: 2 };
    expect(decideStep({ type: 'retry', error, record }, facts(), JOBS)).toEqual({
      action: 'halt',
      error,
      untilMs: NOW + HALT_RECHECK_MS,
      record,
    });
  });

  it.each(['retryable', 'outage', 'auth'] as const)(
    '%s counts the attempt, notes it in the history and retries',
    (kind) => {
      const error = providerError(kind);
      const decision = decideStep({ type: 'retry', error }, facts({ attemptsMade: 1 }), JOBS);
      expect(decision).toEqual({
        action: 'retry',
        error,
        record: { n: 0, history: [attempt(2, error)] },
        attempt: 2,
        limit: 5,
      });
    },
  );

  it('the last attempt ends in the dead-letter queue with the full history', () => {
    const error = providerError('retryable');
    const earlier = attempt(4, error);
    const decision = decideStep(
      { type: 'retry', error, record: { n: 9, history: [earlier] } },
      facts({ attemptsMade: 4 }),
      JOBS,
    );
    expect(decision).toEqual({
      action: 'dead',
      error,
      record: { n: 9, history: [earlier, attempt(5, error)] },
      history: [earlier, attempt(5, error)],
      attempt: 5,
    });
  });

  it('a "retry a little" code dies at its own limit, below the job attempts', () => {
    const error = providerError('retryable', { retryLimit: 2 });
    expect(decideStep({ type: 'retry', error }, facts({ attemptsMade: 0 }), JOBS)).toMatchObject({
      action: 'retry',
      limit: 2,
    });
    expect(decideStep({ type: 'retry', error }, facts({ attemptsMade: 1 }), JOBS)).toMatchObject({
      action: 'dead',
      attempt: 2,
    });
  });

  it('a terminal error dies at once, on the first attempt', () => {
    const error = providerError('terminal');
    expect(decideStep({ type: 'retry', error }, facts(), JOBS)).toMatchObject({
      action: 'dead',
      attempt: 1,
      history: [attempt(1, error)],
    });
  });

  it('fail gives up whatever the error says, even a throttled or retryable one', () => {
    for (const error of [
      providerError('throttled'),
      new AtelierError('x', { code: 'Y', retryable: true }),
    ]) {
      expect(decideStep({ type: 'fail', error }, facts(), JOBS)).toMatchObject({ action: 'dead' });
    }
  });

  it('the history keeps the newest records only', () => {
    const error = providerError('retryable');
    const old = [1, 2, 3].map((n) => attempt(n, error));
    const decision = decideStep(
      { type: 'retry', error, record: { n: 0, history: old } },
      facts({ attemptsMade: 3, maxAttempts: 10 }),
      JOBS,
    );
    expect(decision.action === 'retry' && decision.record.history).toEqual([
      old[1],
      old[2],
      attempt(4, error),
    ]);
  });
});

describe('decideStep: failures of the callbacks queue (no queue-wide control, no history)', () => {
  it('a throttled failure is retried like any other', () => {
    const error = providerError('throttled', { retryAfterMs: 900 });
    const f = facts();
    const decision = decideStep({ type: 'retry', error }, f, CALLBACKS);
    expect(decision).toMatchObject({ action: 'retry', attempt: 1, limit: 5 });
    expect(decision.action === 'retry' && decision.record).toBe(f.record);
  });

  it('a config failure ends the job (nothing can halt)', () => {
    expect(
      decideStep({ type: 'retry', error: providerError('config') }, facts(), CALLBACKS),
    ).toMatchObject({ action: 'dead', history: [] });
  });

  it('a retryable error dies at the last attempt; one that is not retryable at once', () => {
    const retryable = new AtelierError('receiver answered HTTP 503', {
      code: 'CALLBACK_HTTP_503',
      retryable: true,
    });
    const refused = new AtelierError('callback URL refused', { code: 'CALLBACK_URL_REFUSED' });
    expect(
      decideStep({ type: 'retry', error: retryable }, facts({ attemptsMade: 3 }), CALLBACKS),
    ).toMatchObject({
      action: 'retry',
      attempt: 4,
    });
    expect(
      decideStep({ type: 'retry', error: retryable }, facts({ attemptsMade: 4 }), CALLBACKS),
    ).toMatchObject({
      action: 'dead',
      attempt: 5,
    });
    expect(decideStep({ type: 'retry', error: refused }, facts(), CALLBACKS)).toMatchObject({
      action: 'dead',
      attempt: 1,
    });
  });
});
