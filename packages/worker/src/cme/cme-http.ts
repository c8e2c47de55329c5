import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { type Got } from 'got';

export interface CmeHttpOptions {
  /** Whole-request timeout of every CME call (login and client API). */
  requestTimeoutMs: number;
}

/** The CME provider's one HTTP instance and the keep-alive agents it owns. */
export interface CmeHttp {
  got: Got;
  /** Closes the keep-alive sockets. */
  close(): void;
}

/**
 * The one `got.extend()` of the CME provider: keep-alive, a request timeout, no got retries
 * (BullMQ attempts do the slow retries) and no throwing on HTTP status (answers are classified
 * by their body in `cme-answers.ts`).
 */
export function createCmeHttp(options: CmeHttpOptions): CmeHttp {
  const agent = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };
  const instance = got.extend({
    agent,
    timeout: { request: options.requestTimeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    headers: { 'user-agent': 'atelier-worker' },
  });
  return {
    got: instance,
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}
