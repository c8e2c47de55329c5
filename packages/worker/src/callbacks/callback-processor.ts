import {
  AtelierError,
  type CallbackEvent,
  type CallbackJobData,
  callbackHeaders,
  checkCallbackUrl,
  type HostResolver,
  type Logger,
  type Secret,
} from '@atelier/shared';
import { resolveHost } from '@atelier/store';
import { type Job, type Processor, UnrecoverableError } from 'bullmq';
import type { CallbackHttp } from './callback-http.ts';
import { ADDRESS_REFUSED } from './guarded-lookup.ts';
import { parseRetryAfter } from './retry-after.ts';

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

export interface CallbackProcessorOptions {
  secret: Secret;
  http: CallbackHttp;
  allowPrivate: boolean;
  logger: Logger;
  resolve?: HostResolver;
  onDelivery?: (info: CallbackDeliveryInfo) => void;
}

const EVENTS: readonly CallbackEvent[] = ['job.completed', 'job.dead', 'batch.completed'];

/**
 * Delivers one callback job (`jobId` = delivery id): check the URL, sign the body serialised
 * once, POST it, and turn the answer into BullMQ control flow. 2xx completes the job; refusals
 * of our own (bad job, non-public address) fail it at once; everything else (network, timeout,
 * any non-2xx answer) is retried with the queue's attempts and backoff, `Retry-After` first.
 */
export function createCallbackProcessor(
  options: CallbackProcessorOptions,
): Processor<CallbackJobData, { status: number }> {
  return async (job, _token, signal) => {
    const started = performance.now();
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const event = typeof job.data?.event === 'string' ? job.data.event : 'unknown';
    const logger = options.logger.child({ deliveryId: job.id, event, attempt });
    const elapsed = () => Math.round(performance.now() - started);

    let status: number;
    try {
      status = await deliver(job, options, logger, signal);
    } catch (thrown) {
      const error = classify(thrown);
      const final = !error.retryable || attempt >= maxAttempts;
      const httpStatus = error.details?.httpStatus as number | undefined;
      report(options, logger, {
        event,
        status: final ? 'failed' : 'retry',
        ...(httpStatus !== undefined ? { httpStatus } : {}),
        code: error.code,
        durationMs: elapsed(),
      });
      const fields = { code: error.code, httpStatus, durationMs: elapsed() };
      if (final) {
        logger.error({ ...fields, attempts: attempt }, `callback not delivered: ${error.message}`);
      } else {
        logger.warn(
          {
            ...fields,
            retryAfterMs: error.retryAfterMs,
            nextAttempt: attempt + 1,
            of: maxAttempts,
          },
          `callback attempt failed; will retry: ${error.message}`,
        );
      }
      const reason = `[${error.code}] ${error.message}`;
      if (!error.retryable) throw new UnrecoverableError(reason);
      throw new AtelierError(reason, {
        code: error.code,
        retryable: true,
        ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      });
    }
    report(options, logger, {
      event,
      status: 'delivered',
      httpStatus: status,
      durationMs: elapsed(),
    });
    logger.info({ httpStatus: status, durationMs: elapsed() }, 'callback delivered');
    return { status };
  };
}

async function deliver(
  job: Job<CallbackJobData>,
  options: CallbackProcessorOptions,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<number> {
  const { url, event, body } = validJob(job);
  const check = await checkCallbackUrl(url, {
    allowPrivate: options.allowPrivate,
    resolve: options.resolve ?? resolveHost,
  });
  if (!check.ok) {
    throw new AtelierError(`callback URL refused: ${check.reason}`, {
      code: check.code === 'unresolvable' ? 'CALLBACK_DNS' : 'CALLBACK_URL_REFUSED',
      retryable: check.code === 'unresolvable',
    });
  }
  logger.debug({ target: new URL(url).origin }, 'delivering callback');

  const payload = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    ...callbackHeaders({
      secret: options.secret.reveal(),
      deliveryId: job.id ?? '',
      event,
      body: payload,
      timestampSec: Math.floor(Date.now() / 1000),
    }),
  };
  let answer: Awaited<ReturnType<CallbackHttp['post']>>;
  try {
    answer = await options.http.post(url, payload, headers, signal);
  } catch (error) {
    throw networkError(error);
  }
  if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.statusCode;
  const retryAfterMs = parseRetryAfter(answer.retryAfter, Date.now());
  throw new AtelierError(`receiver answered HTTP ${answer.statusCode}`, {
    code: `CALLBACK_HTTP_${answer.statusCode}`,
    retryable: true,
    details: { httpStatus: answer.statusCode },
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

function validJob(job: Job<CallbackJobData>): CallbackJobData {
  const data = job.data as Partial<CallbackJobData> | undefined;
  const valid =
    typeof job.id === 'string' &&
    typeof data?.url === 'string' &&
    EVENTS.includes(data.event as CallbackEvent) &&
    typeof data.body === 'object' &&
    data.body !== null &&
    !Array.isArray(data.body);
  if (!valid) {
    throw new AtelierError('malformed callback job: needs { url, event, body } and a job id', {
      code: 'CALLBACK_INVALID_JOB',
    });
  }
  return data as CallbackJobData;
}

/** A transport failure; its message never includes the URL (paths and queries may hold tokens). */
function networkError(error: unknown): AtelierError {
  const code = (error as { code?: unknown }).code;
  if (code === ADDRESS_REFUSED) {
    return new AtelierError('callback URL refused: the host resolved to a non-public address', {
      code: 'CALLBACK_URL_REFUSED',
      cause: error,
    });
  }
  const timedOut = code === 'ETIMEDOUT' || (error as { name?: unknown }).name === 'TimeoutError';
  return new AtelierError(
    timedOut ? 'receiver did not answer in time' : `network error (${String(code ?? 'unknown')})`,
    { code: timedOut ? 'CALLBACK_TIMEOUT' : 'CALLBACK_NETWORK', retryable: true, cause: error },
  );
}

function classify(thrown: unknown): AtelierError {
  if (thrown instanceof AtelierError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new AtelierError(message, { code: 'CALLBACK_INTERNAL', retryable: true, cause: thrown });
}

function report(options: CallbackProcessorOptions, logger: Logger, info: CallbackDeliveryInfo) {
  try {
    options.onDelivery?.(info);
  } catch (err) {
    logger.warn({ err }, 'onDelivery hook threw');
  }
}
