import {
  failure,
  type Logger,
  type Outcome,
  ProviderError,
  type Secret,
  ValidationError,
} from '@atelier/shared';
import type { Got } from 'got';
import pRetry from 'p-retry';
import { cmeLoginOutcome, cmeTransportOutcome } from './cme-answers.ts';
import type { CmeTicket } from './cme-ticket.ts';
import { buildLoginFields, signLogin } from './login-signer.ts';

export interface LoginClientOptions {
  /** The provider's HTTP instance (`createCmeHttp`). */
  http: Got;
  /** `CME_LOGIN_URL`. */
  loginUrl: string;
  platform: string;
  secretId: Secret;
  secretKey: Secret;
  /** `expireTime - currentTimeStamp` of the signature. */
  signatureValiditySec?: number;
  /** Pause before re-signing after `SignatureVerifyFail`. */
  resignDelayMs?: number;
  logger?: Logger;
  now?: () => number;
}

const DEFAULTS = { signatureValiditySec: 300, resignDelayMs: 50, now: Date.now };

/** Thrown inside the re-sign retry so p-retry signs once more; never leaves this file. */
class ResignNeeded extends Error {
  readonly outcome: Outcome<never>;
  constructor(outcome: Outcome<never>) {
    super('SignatureVerifyFail');
    this.outcome = outcome;
  }
}

/**
 * Exchanges a freshly signed `Login` signature for a ticket. Never throws for provider or
 * transport failures (they come back as outcomes); rethrows aborts. The signature and the
 * ticket are never logged.
 */
export class LoginClient {
  readonly #options: LoginClientOptions & typeof DEFAULTS;

  constructor(options: LoginClientOptions) {
    this.#options = { ...DEFAULTS, ...options };
  }

  get platform(): string {
    return this.#options.platform;
  }

  async login(userId: string, signal?: AbortSignal): Promise<Outcome<CmeTicket>> {
    const { logger, now, resignDelayMs } = this.#options;
    const started = now();
    let outcome: Outcome<CmeTicket>;
    try {
      // `SignatureVerifyFail` may be clock skew or an unlucky signature: sign again once, fresh.
      outcome = await pRetry(
        async () => {
          const attempt = await this.#attempt(userId, signal);
          if (attempt.kind === 'failed' && attempt.error.code === 'SignatureVerifyFail') {
            throw new ResignNeeded(attempt);
          }
          return attempt;
        },
        {
          retries: 1,
          minTimeout: resignDelayMs,
          signal,
          shouldRetry: ({ error }) => error instanceof ResignNeeded,
        },
      );
    } catch (error) {
      if (!(error instanceof ResignNeeded)) throw error;
      outcome = error.outcome;
    }
    const durationMs = now() - started;
    const platform = this.#options.platform;
    if (outcome.kind === 'ok') {
      logger?.info({ platform, userId, durationMs }, 'cme login succeeded');
    } else if (outcome.kind === 'failed') {
      logger?.warn(
        { platform, userId, durationMs, kind: outcome.error.kind, code: outcome.error.code },
        'cme login failed',
      );
    }
    return outcome;
  }

  async #attempt(userId: string, signal: AbortSignal | undefined): Promise<Outcome<CmeTicket>> {
    const { http, loginUrl, platform, secretId, secretKey, signatureValiditySec, now } =
      this.#options;
    let signature: string;
    try {
      const fields = buildLoginFields({
        secretId: secretId.reveal(),
        platform,
        userId,
        validitySec: signatureValiditySec,
        nowMs: now(),
      });
      signature = signLogin(fields, secretKey.reveal());
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return failure(
        new ProviderError(`CME login refused locally: ${error.message}`, {
          provider: 'cme',
          kind: 'terminal',
          code: 'INVALID_USER_ID',
        }),
      );
    }
    const url = new URL(loginUrl);
    url.searchParams.set('signature', signature);
    try {
      const response = await http.get(url, { signal });
      return cmeLoginOutcome(
        { status: response.statusCode, body: String(response.body) },
        { platform, userId, obtainedAt: now() },
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return cmeTransportOutcome('CME login', error);
    }
  }
}
