import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { DrawingConfig, DrawingTask, Logger, Outcome, OutcomeLabel } from '@atelier/shared';
import { outcomeLabel, requireDrawingProvider } from '@atelier/shared';
import got, { type Got, RequestError } from 'got';
import {
  type DrawingHttpAnswer,
  type DrawingOperation,
  type DrawingQueryResult,
  type DrawingSubmitResult,
  gatewayCanonicalRequest,
  queryOutcome,
  submitOutcome,
  transportOutcome,
} from './drawing-answers.ts';
import { createDrawingAuth, type DrawingAuth } from './drawing-auth.ts';
import { encodeFormBody, FORM_CONTENT_TYPE } from './form-body.ts';

/** Listeners of a submit's answer. */
export interface SubmitHooks {
  /** Called synchronously with the taskId where a successful answer is read. */
  onTaskId?: (taskId: string) => void;
}

/** One finished provider call, for metrics. */
export interface DrawingCall {
  operation: DrawingOperation;
  outcome: OutcomeLabel;
  /** Business code (`200`, `202`), gateway code (`APIGW.0308`) or ours (`NETWORK`, `HTTP_503`). */
  code: string;
  durationMs: number;
  httpStatus?: number;
}

export interface DrawingClientOptions {
  /** Scheme, host and optional path prefix, e.g. `https://jmxxx.apistore.huaweicloud.com`. */
  baseUrl: string;
  submitPath: string;
  queryPath: string;
  auth: DrawingAuth;
  logger: Logger;
  /** Whole-request timeout of one call. Default 15 000. */
  requestTimeoutMs?: number;
  /** Called once per finished call (not for aborted ones). */
  onCall?: (call: DrawingCall) => void;
  /** Default `atelier-worker`. */
  userAgent?: string;
}

const DEFAULTS = { requestTimeoutMs: 15_000, userAgent: 'atelier-worker' } as const;

/**
 * The drawing provider behind one `got` instance with keep-alive agents. Never throws for
 * provider or transport failures: every call returns an `Outcome`. Throws only the abort
 * reason when `signal` aborts, and on programmer errors. Never retries: BullMQ attempts do.
 */
export class DrawingClient {
  readonly #submitUrl: URL;
  readonly #queryUrl: URL;
  readonly #auth: DrawingAuth;
  readonly #logger: Logger;
  readonly #onCall: ((call: DrawingCall) => void) | undefined;
  readonly #agents: { http: HttpAgent; https: HttpsAgent };
  readonly #got: Got;

  constructor(options: DrawingClientOptions) {
    const settings = { ...DEFAULTS, ...definedOnly(options) };
    this.#submitUrl = endpoint(settings.baseUrl, settings.submitPath);
    this.#queryUrl = endpoint(settings.baseUrl, settings.queryPath);
    this.#auth = settings.auth;
    this.#logger = settings.logger.child({ provider: 'drawing' });
    this.#onCall = settings.onCall;
    this.#agents = {
      http: new HttpAgent({ keepAlive: true }),
      https: new HttpsAgent({ keepAlive: true }),
    };
    this.#got = got.extend({
      agent: this.#agents,
      http2: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      followRedirect: false,
      // Answers are small JSON; not asking for compression skips a decoding stream per call.
      decompress: false,
      timeout: { request: settings.requestTimeoutMs },
      responseType: 'text',
      headers: { 'user-agent': settings.userAgent },
    });
  }

  /** A client for the configured provider; throws `ConfigError` when the config is incomplete. */
  static fromConfig(
    config: DrawingConfig,
    options: { logger: Logger; onCall?: (call: DrawingCall) => void },
  ): DrawingClient {
    requireDrawingProvider(config);
    const { baseUrl = '', submitPath = '', queryPath = '' } = config;
    return new DrawingClient({
      baseUrl,
      submitPath,
      queryPath,
      auth: createDrawingAuth(config, options.logger),
      requestTimeoutMs: config.requestTimeoutMs,
      logger: options.logger,
      onCall: options.onCall,
    });
  }

  /**
   * Submits a task (paid): ok `{taskId, taskNo?, hintMs?}`. `hooks.onTaskId` is called
   * synchronously where the answer is read, in the same tick (for the submit journal: nothing
   * can be awaited between the paid answer and its record).
   */
  submit(
    task: DrawingTask,
    signal?: AbortSignal,
    hooks: SubmitHooks = {},
  ): Promise<Outcome<DrawingSubmitResult>> {
    const fields = {
      text: task.text,
      style: task.style,
      resolution: task.resolution,
      num: task.num,
    };
    const { onTaskId } = hooks;
    const onOk = onTaskId && ((value: DrawingSubmitResult) => onTaskId(value.taskId));
    return this.#call('submit', this.#submitUrl, fields, submitOutcome, signal, onOk);
  }

  /** Queries a task: ok `{images, createTime?}`, pending (with `hintMs`), or a failure. */
  query(taskId: string, signal?: AbortSignal): Promise<Outcome<DrawingQueryResult>> {
    return this.#call('query', this.#queryUrl, { taskId }, queryOutcome, signal);
  }

  /** Closes idle keep-alive connections; in-flight calls fail as network errors. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  async #call<T>(
    operation: DrawingOperation,
    url: URL,
    fields: Record<string, string | number>,
    toOutcome: (answer: DrawingHttpAnswer) => Outcome<T>,
    signal: AbortSignal | undefined,
    onOk?: (value: T) => void,
  ): Promise<Outcome<T>> {
    signal?.throwIfAborted();
    const body = encodeFormBody(fields);
    const headers = { 'Content-Type': FORM_CONTENT_TYPE };
    const auth = this.#auth.authenticate({ method: 'POST', url: url.href, headers, body });
    const started = performance.now();
    let outcome: Outcome<T>;
    let httpStatus: number | undefined;
    try {
      const response = await this.#got.post(url, {
        // As a string (percent-encoding made it ASCII): got deep-copies a Buffer body per call.
        body: body.toString('latin1'),
        headers: { ...headers, ...auth.headers },
        signal,
      });
      httpStatus = response.statusCode;
      outcome = toOutcome({
        statusCode: httpStatus,
        headers: response.headers,
        body: response.body,
      });
      if (outcome.kind === 'ok' && onOk) this.#hear(onOk, outcome.value);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof RequestError)) throw error;
      outcome = transportOutcome(operation, error);
    }
    const durationMs = Math.round(performance.now() - started);
    this.#record(
      { operation, outcome: outcomeLabel(outcome), code: codeOf(outcome), durationMs, httpStatus },
      outcome,
      auth.canonicalRequest,
    );
    return outcome;
  }

  /** Runs a listener of the answer; it must not cost the caller the answer by throwing. */
  #hear<T>(listener: (value: T) => void, value: T): void {
    try {
      listener(value);
    } catch (error) {
      this.#logger.error({ err: error }, 'drawing answer listener threw');
    }
  }

  #record(call: DrawingCall, outcome: Outcome<unknown>, canonicalRequest: string | undefined) {
    if (outcome.kind === 'failed' && outcome.error.kind === 'config') {
      this.#logger.error(
        {
          ...call,
          err: outcome.error,
          authMode: this.#auth.mode,
          gatewayCanonicalRequest: gatewayCanonicalRequest(outcome.error),
          canonicalRequest,
        },
        'drawing provider rejected our configuration (credentials, signature, quota or endpoint)',
      );
    } else {
      this.#logger.debug(call, 'drawing call');
    }
    try {
      this.#onCall?.(call);
    } catch (error) {
      this.#logger.warn({ err: error }, 'drawing onCall listener threw');
    }
  }
}

function codeOf(outcome: Outcome<unknown>): string {
  return outcome.kind === 'failed' ? outcome.error.code : '200';
}

function endpoint(baseUrl: string, path: string): URL {
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  return new URL(`${base}${path.startsWith('/') ? path : `/${path}`}`);
}

function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}
