import { AtelierError } from './atelier-error.ts';

export type ProviderName = 'drawing' | 'cme';

/**
 * What a provider answer means for the job, decided in one place per provider:
 * - `retryable`: transient; BullMQ attempts with backoff (`retryLimit` caps "retry a little" codes)
 * - `throttled`: slow the whole queue down; no attempt consumed
 * - `outage`: provider maintenance (drawing 500/501); back off for minutes, may open a window
 * - `auth`: CME ticket rejected; refresh once and retry once
 * - `terminal`: will never succeed; dead letter
 * - `config`: our credentials or account are wrong (bad signature, quota used up); pause, keep jobs
 */
export type FailureKind = 'retryable' | 'throttled' | 'outage' | 'auth' | 'terminal' | 'config';

export interface ProviderErrorOptions {
  provider: ProviderName;
  kind: FailureKind;
  /** The provider's own code (`202`, `AuthFailure.SessionInvalid`, `APIGW.0308`) or ours (`NETWORK`, `HTTP_503`). */
  code: string;
  /** The provider's message, verbatim. */
  providerMessage?: string;
  /** CME also sends an English message. */
  providerEnglishMessage?: string;
  httpStatus?: number;
  retryAfterMs?: number;
  /** For "retry a little" codes: the most attempts this code deserves. */
  retryLimit?: number;
  /** Raw answer, non-enumerable so loggers never print it. */
  response?: unknown;
  cause?: unknown;
}

/** A classified failure of a provider call. */
export class ProviderError extends AtelierError {
  override name = 'ProviderError';
  readonly provider: ProviderName;
  readonly kind: FailureKind;
  readonly providerMessage: string | undefined;
  readonly providerEnglishMessage: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryLimit: number | undefined;
  declare readonly response: unknown;

  constructor(message: string, options: ProviderErrorOptions) {
    super(message, {
      code: options.code,
      retryable:
        options.kind === 'retryable' || options.kind === 'throttled' || options.kind === 'outage',
      retryAfterMs: options.retryAfterMs,
      cause: options.cause,
    });
    this.provider = options.provider;
    this.kind = options.kind;
    this.providerMessage = options.providerMessage;
    this.providerEnglishMessage = options.providerEnglishMessage;
    this.httpStatus = options.httpStatus;
    this.retryLimit = options.retryLimit;
    Object.defineProperty(this, 'response', { value: options.response, enumerable: false });
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof Error && error.name === 'ProviderError' && 'kind' in error;
}
