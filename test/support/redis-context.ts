import { randomBytes } from 'node:crypto';
import { createRedisConnection, type RedisClient } from '@atelier/store';
import { inject } from 'vitest';

/** URL of the run's private redis-server (started by the integration project's global setup). */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A queue prefix no other test uses, so Redis-backed tests never share state. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/**
 * Connections opened through here are closed, and every key under the prefixes handed out is
 * deleted, by `cleanup()` (call it in `afterEach`).
 */
export class RedisTestContext {
  readonly url: string;
  readonly #clients: RedisClient[] = [];
  readonly #prefixes: string[] = [];
  readonly #closers: Array<() => Promise<unknown>> = [];

  constructor(url: string = testRedisUrl()) {
    this.url = url;
  }

  prefix(label?: string): string {
    const prefix = uniquePrefix(label);
    this.#prefixes.push(prefix);
    return prefix;
  }

  connection(role: 'worker' | 'producer' = 'worker'): RedisClient {
    const client = createRedisConnection({ url: this.url, role });
    this.#clients.push(client);
    return client;
  }

  /** Registers anything with a close/stop to be awaited during cleanup (most recent first). */
  onCleanup(closer: () => Promise<unknown>): void {
    this.#closers.push(closer);
  }

  async cleanup(): Promise<void> {
    for (const closer of this.#closers.splice(0).reverse()) {
      await closer().catch(() => undefined);
    }
    const admin = createRedisConnection({ url: this.url, role: 'worker' });
    try {
      for (const prefix of this.#prefixes.splice(0)) {
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await admin.del(...keys);
        } while (cursor !== '0');
      }
    } finally {
      admin.disconnect();
    }
    for (const client of this.#clients.splice(0)) client.disconnect();
  }
}
