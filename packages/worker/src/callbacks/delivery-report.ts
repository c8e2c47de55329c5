import type { CallbackJobData, Logger } from '@atelier/shared';
import type { StepRun } from '../runtime/step-runner.ts';
import { type CallbackResult, callbackEventOf } from './callback-processor.ts';

/** One delivery attempt, for metrics. Never carries the URL, the body or the signature. */
export interface CallbackDeliveryInfo {
  event: string;
  /** `retry`: this attempt failed and BullMQ will try again; `failed`: given up. */
  status: 'delivered' | 'retry' | 'failed';
  httpStatus?: number;
  /** Stable failure code (`CALLBACK_HTTP_500`, `CALLBACK_NETWORK`, `CALLBACK_URL_REFUSED`, …). */
  code?: string;
  durationMs: number;
}

/**
 * What the callbacks queue says about each delivery attempt: its log line (a delivery given
 * up at error) and a `CallbackDeliveryInfo` for metrics.
 */
export function reportDelivery(
  onDelivery: ((info: CallbackDeliveryInfo) => void) | undefined,
): (run: StepRun<CallbackJobData, CallbackResult>) => void {
  return ({ job, logger, decision, durationMs }) => {
    const event = callbackEventOf(job);
    if (decision.action === 'complete') {
      const httpStatus = decision.result.status;
      notify(onDelivery, logger, { event, status: 'delivered', httpStatus, durationMs });
      logger.info({ httpStatus, durationMs }, 'callback delivered');
      return;
    }
    if (decision.action !== 'retry' && decision.action !== 'dead') return;
    const { error, attempt } = decision;
    const final = decision.action === 'dead';
    const httpStatus = error.details?.httpStatus as number | undefined;
    notify(onDelivery, logger, {
      event,
      status: final ? 'failed' : 'retry',
      ...(httpStatus !== undefined ? { httpStatus } : {}),
      code: error.code,
      durationMs,
    });
    const fields = { code: error.code, httpStatus, durationMs };
    if (decision.action === 'dead') {
      logger.error({ ...fields, attempts: attempt }, `callback not delivered: ${error.message}`);
    } else {
      logger.warn(
        {
          ...fields,
          retryAfterMs: error.retryAfterMs,
          nextAttempt: attempt + 1,
          of: decision.limit,
        },
        `callback attempt failed; will retry: ${error.message}`,
      );
    }
  };
}

function notify(
  onDelivery: ((info: CallbackDeliveryInfo) => void) | undefined,
  logger: Logger,
  info: CallbackDeliveryInfo,
): void {
  try {
    onDelivery?.(info);
  } catch (err) {
    logger.warn({ err }, 'onDelivery hook threw');
  }
}
