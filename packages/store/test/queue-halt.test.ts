import { AtelierError, atelierKeys } from '@atelier/shared';
import { QueueHalt } from '@atelier/store';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../../test/support/capture-logger.ts';
import { RedisTestContext } from '../../../test/support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const quotaError = (message: string) => new AtelierError(message, { code: 'QUOTA_EXHAUSTED' });

function setup() {
  const redis = ctx.connection();
  const prefix = ctx.prefix('halt');
  const queue = new Queue('drawing', { connection: redis, prefix });
  ctx.onCleanup(() => queue.close());
  const logs = captureLogger();
  const halt = (credentials?: string[]) =>
    new QueueHalt({ queue, redis, prefix, logger: logs.logger, credentials });
  return { redis, prefix, queue, logs, halt };
}

describe('QueueHalt', () => {
  it('halt pauses the queue and keeps the first reason; resume clears it and resumes', async () => {
    const { queue, logs, halt } = setup();
    const worker = halt(['app-key', 'app-secret']);
    expect(await worker.status()).toBeUndefined();

    const before = Date.now();
    await worker.halt(quotaError('quota used up'));
    expect(await queue.isPaused()).toBe(true);
    const record = await worker.status();
    expect(record).toEqual({
      queue: 'drawing',
      code: 'QUOTA_EXHAUSTED',
      message: 'quota used up',
      at: expect.any(Number),
      credentials: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(record?.at).toBeGreaterThanOrEqual(before);

    // A second halt (another worker, another error) keeps the first reason and logs once.
    await halt(['app-key', 'app-secret']).halt(quotaError('second'));
    expect((await worker.status())?.message).toBe('quota used up');
    expect(logs.lines.filter((line) => line.includes('PAUSED'))).toHaveLength(1);
    // The fingerprint is not the credentials.
    expect(JSON.stringify(record)).not.toContain('app-secret');

    // The API (no credentials) reads and resumes it.
    const api = halt();
    expect((await api.status())?.code).toBe('QUOTA_EXHAUSTED');
    await api.resume();
    expect(await worker.status()).toBeUndefined();
    expect(await queue.isPaused()).toBe(false);
  });

  it('reads an unreadable or partial record as code UNKNOWN', async () => {
    const { redis, prefix, halt } = setup();
    const key = atelierKeys(prefix).halt('drawing');
    await redis.set(key, 'not json');
    expect(await halt().status()).toEqual({
      queue: 'drawing',
      code: 'UNKNOWN',
      message: 'unreadable halt record',
      at: 0,
      credentials: '',
    });
    await redis.set(key, JSON.stringify({ message: 'left by hand', at: 5 }));
    expect(await halt().status()).toEqual({
      queue: 'drawing',
      code: 'UNKNOWN',
      message: 'left by hand',
      at: 5,
      credentials: '',
    });
  });

  it('a worker started with other credentials resumes the queue; with the same ones it stays halted', async () => {
    const { queue, logs, halt } = setup();
    expect(await halt(['key', 'old-secret']).resumeIfCredentialsChanged()).toBe(false);
    await halt(['key', 'old-secret']).halt(quotaError('bad signature'));

    expect(await halt(['key', 'old-secret']).resumeIfCredentialsChanged()).toBe(false);
    expect(await queue.isPaused()).toBe(true);
    expect(logs.text()).toContain('queue \\"drawing\\" is still paused: bad signature');

    expect(await halt(['key', 'new-secret']).resumeIfCredentialsChanged()).toBe(true);
    expect(await queue.isPaused()).toBe(false);
    expect(await halt().status()).toBeUndefined();
    expect(logs.text()).toContain('credentials changed since the queue halted: resuming');
  });
});
