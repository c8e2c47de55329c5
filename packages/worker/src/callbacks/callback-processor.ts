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
import type { JobView, Step, StepContext, StepProcessor } from '../runtime/step.ts';
import type { CallbackHttp } from './callback-http.ts';
import { ADDRESS_REFUSED } from './guarded-lookup.ts';
import { parseRetryAfter } from './retry-after.ts';

export interface CallbackProcessorOptions {
  secret: Secret;
  http: CallbackHttp;
  allowPrivate: boolean;
  resolve?: HostResolver;
}

export type CallbackStep = Step<CallbackJobData, CallbackResult>;

export interface CallbackResult {
  status: number;
}

const EVENTS: readonly CallbackEvent[] = ['job.completed', 'job.dead', 'batch.completed'];

/**
 * Delivers one callback job (`jobId` = delivery id): check the URL, sign the body serialised
 * once, POST it. 2xx completes the job; refusals of our own (bad job, non-public address) are
 * errors that are not retryable, so the job fails at once; everything else (network, timeout,
 * any non-2xx answer) is a retryable error, `Retry-After` first. The step runner does the rest.
 */
export class CallbackProcessor implements StepProcessor<CallbackJobData, CallbackResult> {
  readonly #o: CallbackProcessorOptions;

  constructor(options: CallbackProcessorOptions) {
    this.#o = options;
  }

  async run({ job, signal, logger }: StepContext<CallbackJobData>): Promise<CallbackStep> {
    try {
      return { type: 'complete', result: { status: await deliver(job, this.#o, logger, signal) } };
    } catch (thrown) {
      // Cut by shutdown: not the receiver's failure. The runner hands the delivery back (no
      // attempt used) when the processor throws with its signal aborted.
      if (signal.aborted) throw thrown;
      return { type: 'retry', error: classify(thrown) };
    }
  }
}

/** The `event` a callback job names, for logs and metrics (`unknown` for a malformed job). */
export function callbackEventOf(job: JobView<CallbackJobData>): string {
  return typeof job.data?.event === 'string' ? job.data.event : 'unknown';
}

async function deliver(
  job: JobView<CallbackJobData>,
  options: CallbackProcessorOptions,
  logger: Logger,
  signal: AbortSignal,
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

function validJob(job: JobView<CallbackJobData>): CallbackJobData {
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
