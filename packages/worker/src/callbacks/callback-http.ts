import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';
import got from 'got';

export interface CallbackHttpOptions {
  /** Whole-attempt timeout, from connecting to the response head. */
  timeoutMs: number;
  /** Connect-time address check (see `createGuardedLookup`). */
  lookup: LookupFunction;
}

/** What the receiver answered; its body is never read. */
export interface CallbackAnswer {
  statusCode: number;
  retryAfter: string | undefined;
}

export interface CallbackHttp {
  post(
    url: string,
    body: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<CallbackAnswer>;
  /** Closes the keep-alive sockets. */
  close(): void;
}

/**
 * The one `got.extend()` of callback delivery: no got retries (BullMQ attempts retry), no
 * redirects (a 3xx is an answer, not an instruction), no throwing on status, and a lookup
 * that refuses non-public addresses. Only the response head is awaited, so a receiver
 * cannot make us buffer a large body.
 */
export function createCallbackHttp(options: CallbackHttpOptions): CallbackHttp {
  const agent = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };
  const instance = got.extend({
    agent,
    timeout: { request: options.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    dnsLookup: options.lookup,
    headers: { 'user-agent': 'atelier-callbacks' },
  });

  return {
    post(url, body, headers, signal) {
      return new Promise<CallbackAnswer>((resolve, reject) => {
        const request = instance.stream.post(url, {
          body,
          headers,
          ...(signal ? { signal } : {}),
        });
        request.once('response', (response: { statusCode: number; headers: NodeHeaders }) => {
          const retryAfter = response.headers['retry-after'];
          resolve({
            statusCode: response.statusCode,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          });
          request.destroy();
        });
        request.on('error', reject);
      });
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

type NodeHeaders = Record<string, string | string[] | undefined>;
