import { type Logger, type Outcome, type OutcomeLabel, outcomeLabel } from '@atelier/shared';
import type { Got } from 'got';
import { cmeApiOutcome, cmeTransportOutcome } from './cme-answers.ts';

/** One client-API call, for metrics. Carries no ticket and no body. */
export interface CmeCallEvent {
  /** `ActionClass/ActionName`. */
  operation: string;
  outcome: OutcomeLabel;
  /** The provider's code (`Success`, `AuthFailure.SessionInvalid`) or ours (`NETWORK`). */
  code: string;
  durationMs: number;
}

export interface PaasClientOptions {
  /** The provider's HTTP instance (`createCmeHttp`). */
  http: Got;
  /** `CME_API_BASE_URL`. */
  apiBaseUrl: string;
  onCall?: (event: CmeCallEvent) => void;
  logger?: Logger;
  now?: () => number;
}

const ACTION_PATTERN = /^[A-Za-z]+\/[A-Za-z]+$/;

/**
 * Calls the CME client API: `POST <base>/PaaS/<ActionClass>/<ActionName>?auth=<ticket>`.
 * Never throws for provider or transport failures (they come back as outcomes); rethrows
 * aborts. The URL (which holds the ticket) never reaches an error or a log line.
 */
export class PaasClient {
  readonly #http: Got;
  readonly #base: URL;
  readonly #onCall: ((event: CmeCallEvent) => void) | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;

  constructor(options: PaasClientOptions) {
    this.#http = options.http;
    const base = options.apiBaseUrl;
    this.#base = new URL(base.endsWith('/') ? base : `${base}/`);
    this.#onCall = options.onCall;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  async call(
    action: string,
    body: Record<string, unknown>,
    authorization: string,
    signal?: AbortSignal,
  ): Promise<Outcome<unknown>> {
    if (!ACTION_PATTERN.test(action)) throw new TypeError(`not a CME action: ${action}`);
    const url = new URL(`PaaS/${action}`, this.#base);
    url.searchParams.set('auth', authorization);
    const started = this.#now();
    let outcome: Outcome<unknown>;
    try {
      const response = await this.#http.post(url, { json: body, signal });
      outcome = cmeApiOutcome(action, { status: response.statusCode, body: String(response.body) });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      outcome = cmeTransportOutcome(`CME ${action}`, error);
    }
    const durationMs = this.#now() - started;
    const code = outcome.kind === 'failed' ? outcome.error.code : 'Success';
    const label = outcomeLabel(outcome);
    this.#onCall?.({ operation: action, outcome: label, code, durationMs });
    this.#logger?.debug({ operation: action, outcome: label, code, durationMs }, 'cme call');
    return outcome;
  }
}
