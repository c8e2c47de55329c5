import { type JobMeta, jobTenant } from '@atelier/shared';
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
    const { action } = decision;
    switch (step.type) {
      case 'complete': {
        const meta = (job.data as { meta?: JobMeta } | undefined)?.meta;
        const images = (step.result as { images?: unknown } | undefined)?.images;
        onStep?.({
          queue,
          step: 'done',
          action,
          ageMs: Date.now() - job.timestamp,
          tenant: jobTenant(meta ?? {}),
          ...(Array.isArray(images) ? { images: images.length } : {}),
        });
        break;
      }
      case 'wait':
        onStep?.({ queue, step: 'wait', action });
        break;
      case 'cancelled':
        onStep?.({ queue, step: 'cancelled', action });
        break;
      default:
        onStep?.({
          queue,
          step: 'fail',
          action,
          kind: failureKind(step.error),
          code: step.error.code,
        });
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
