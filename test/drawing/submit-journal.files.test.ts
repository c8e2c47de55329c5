import { appendFile, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type DrawingJobData, QUEUE_NAMES } from '@atelier/shared';
import { JobFence } from '@atelier/store';
import { QueueKeys } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { applySubmitJournal } from '../../packages/worker/src/drawing/apply-submit-journal.ts';
import { SubmitJournal } from '../../packages/worker/src/drawing/submit-journal.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

async function journalDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-journal-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function open(dir: string, options: Partial<Parameters<typeof SubmitJournal.open>[0]> = {}) {
  const journal = await SubmitJournal.open({ dir, logger: captureLogger().logger, ...options });
  ctx.onCleanup(async () => journal.close());
  return journal;
}

const entry = (n: number) => ({ jobId: `dr_${n}`, taskId: `${1000 + n}`, submittedAt: n });

describe('the submit journal on disk', () => {
  it('keeps what was appended for the next process, whole lines only', async () => {
    const dir = await journalDir();
    const first = await open(dir);
    expect(first.append(entry(1))).toBe(true);
    expect(first.append(entry(2))).toBe(true);
    // The process dies here (no close): what it wrote is in the file. A torn last line too.
    await appendFile(join(dir, 'submits.jsonl'), '{"jobId":"dr_3","taskI');
    await rm(join(dir, 'owner.lock'));

    const next = await open(dir);
    expect(next.entries).toEqual([entry(1), entry(2)]);
    next.clear();
    expect(await readFile(join(dir, 'submits.jsonl'), 'utf8')).toBe('');
  });

  it('empties itself once it has grown and no answer waits for Redis, and on a quiet close', async () => {
    const dir = await journalDir();
    const journal = await open(dir, { compactBytes: 60 });
    const file = join(dir, 'submits.jsonl');
    journal.append(entry(1));
    journal.append(entry(2));
    journal.settled();
    // One answer still waits for its Redis write: nothing is dropped.
    expect((await stat(file)).size).toBeGreaterThan(60);
    journal.settled();
    expect((await stat(file)).size).toBe(0);
    journal.append(entry(3));
    journal.close();
    // Closed with an answer in flight: kept for the next start.
    expect(await readFile(file, 'utf8')).toContain('"dr_3"');
  });

  it('belongs to one process: a live owner is waited for, then refused naming ATELIER_JOURNAL_DIR', async () => {
    const dir = await journalDir();
    await open(dir);
    await expect(open(dir, { lock: { waitMs: 300 } })).rejects.toThrow(ConfigError);
    await expect(open(dir, { lock: { waitMs: 300 } })).rejects.toThrow(
      /ATELIER_JOURNAL_DIR: .* is in use by another worker process/,
    );
  });

  it('is taken over from an owner that is gone: a dead pid on this host, or no refresh for a while', async () => {
    const dead = await journalDir();
    await writeFile(
      join(dead, 'owner.lock'),
      JSON.stringify({ host: hostname(), pid: 2 ** 22 + 1 }),
    );
    await expect(open(dead, { lock: { waitMs: 0 } })).resolves.toBeInstanceOf(SubmitJournal);

    const elsewhere = await journalDir();
    const lock = join(elsewhere, 'owner.lock');
    await writeFile(lock, JSON.stringify({ host: 'another-host', pid: 1 }));
    await expect(open(elsewhere, { lock: { waitMs: 0 } })).rejects.toThrow(ConfigError);
    const long = new Date(Date.now() - 60_000);
    await utimes(lock, long, long);
    await expect(open(elsewhere, { lock: { waitMs: 0 } })).resolves.toBeInstanceOf(SubmitJournal);
  });
});

describe('applying a journal to Redis', () => {
  it('gives a taskId only to a job that has none and has not finished', async () => {
    const redis = ctx.connection();
    const prefix = ctx.prefix('journal');
    const keys = new QueueKeys(prefix);
    const jobKey = (id: string) => keys.toKey(QUEUE_NAMES.drawing, id);
    const data = (state: DrawingJobData['state']): string =>
      JSON.stringify({
        kind: 'drawing',
        task: { text: 't', style: '油画', resolution: '1024*1024', num: 1 },
        meta: { enqueuedAt: 1 },
        ...(state ? { state } : {}),
      });
    await redis.hset(jobKey('dr_1'), { data: data({ polls: 0, submitIntentAt: 5 }) });
    await redis.hset(jobKey('dr_2'), { data: data({ polls: 2, taskId: '9999' }) });
    await redis.hset(jobKey('dr_3'), {
      data: data({ polls: 0, submitIntentAt: 5 }),
      finishedOn: '7',
    });
    const logs = captureLogger();

    const applied = await applySubmitJournal([entry(1), entry(2), entry(3), entry(4)], {
      fence: new JobFence(redis, prefix),
      jobKey,
      logger: logs.logger,
    });

    expect(applied).toBe(1);
    const first = JSON.parse((await redis.hget(jobKey('dr_1'), 'data')) ?? '{}') as DrawingJobData;
    expect(first.state).toEqual({ polls: 0, taskId: '1001', submittedAt: 1 });
    expect(await redis.hget(jobKey('dr_2'), 'data')).toBe(data({ polls: 2, taskId: '9999' }));
    expect(await redis.hget(jobKey('dr_3'), 'data')).toBe(data({ polls: 0, submitIntentAt: 5 }));
    expect(await redis.exists(jobKey('dr_4'))).toBe(0);
    expect(logs.text()).toContain('the job holds another taskId');
    expect(logs.text()).toContain('the job ended without this taskId');
  });
});
