import type { StepEvent } from '../worker-observer.ts';
import { failureKind } from './step-decision.ts';
import type { StepRun } from './step-runner.ts';

/**
 * What a drawing or CME queue says about each run: a `StepEvent` for metrics, and a log line
 * when the queue was slowed down or an attempt is retried.
 */
export function reportJobStep(
  queue: string,
  onStep: ((event: StepEvent) => void) | undefined,
): (run: StepRun<unknown, unknown>) => void {
  return ({ job, logger, step, decision }) => {
    switch (step.type) {
      case 'complete':
        onStep?.({ queue, step: 'done', ageMs: Date.now() - job.timestamp });
        break;
      case 'wait':
        onStep?.({ queue, step: 'wait' });
        break;
      case 'cancelled':
        onStep?.({ queue, step: 'cancelled' });
        break;
      default:
        onStep?.({ queue, step: 'fail', kind: failureKind(step.error), code: step.error.code });
    }
    if (decision.action === 'slow-queue') {
      logger.warn({ code: decision.error.code }, 'provider throttled us: queue slowed down');
    } else if (decision.action === 'retry') {
      const { error, attempt, limit } = decision;
      logger.info(
        { code: error.code, kind: failureKind(error), nextAttempt: attempt + 1, of: limit },
        'attempt failed; will retry',
      );
    }
  };
}
