import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProducer } from '@atelier/producer';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext, uniquePrefix } from '../support/redis-context.ts';
import { S3_TEST_BUCKET, S3TestServer } from '../support/s3-server.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await S3TestServer.start();
});
afterAll(() => s3.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function imageDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-archive-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A drawing stack whose worker archives into a fresh folder (unless `env` says otherwise). */
async function archivingStack(env: Record<string, string> = {}) {
  const dir = await imageDir();
  const stack = await DrawingStack.start(ctx, {
    env: { ATELIER_IMAGE_STORE: `fs:${dir}`, ATELIER_IMAGE_ALLOW_PRIVATE: 'true', ...env },
  });
  return { stack, dir };
}

async function served(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}

describe('drawings with an image store', () => {
  it('complete only once every image is stored on disk, byte for byte', async () => {
    const { stack, dir } = await archivingStack();
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'archive to disk', num: 2 });

    const { returnvalue: result } = await stack.completed(id);
    expect(result.images).toHaveLength(2);
    expect(result.images[0]).toMatch(new RegExp(`^${stack.sim.url}/images/\\d+/0\\.png$`));
    const originals = await Promise.all(result.images.map(served));
    expect(result.archived).toEqual(
      originals.map((bytes, n) => ({
        key: `${id}/${n}.png`,
        url: `/v1/images/${id}/${n}.png`,
        bytes: bytes.length,
        sha256: sha256(bytes),
        contentType: 'image/png',
      })),
    );
    for (const [n, original] of originals.entries()) {
      expect((await readFile(join(dir, id, `${n}.png`))).equals(original)).toBe(true);
    }
    expect((await readdir(join(dir, id))).sort()).toEqual(['0.png', '1.png']);
    expect(stack.sim.submitsFor('archive to disk')).toBe(1);
  });

  it('complete only once every image is stored in S3, byte for byte', async () => {
    const prefix = `drawings/${uniquePrefix('s3')}`;
    const stack = await DrawingStack.start(ctx, {
      env: { ...s3.env(prefix), ATELIER_IMAGE_ALLOW_PRIVATE: 'true' },
    });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'archive to s3', num: 3 });

    const { returnvalue: result } = await stack.completed(id);
    expect(result.archived?.map((a) => a.key)).toEqual([0, 1, 2].map((n) => `${id}/${n}.png`));
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      for (const [n, url] of result.images.entries()) {
        const original = await served(url);
        const object = await client.send(
          new GetObjectCommand({ Bucket: S3_TEST_BUCKET, Key: `${prefix}/${id}/${n}.png` }),
        );
        const stored = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
        expect(stored.equals(original)).toBe(true);
        expect(object.ContentType).toBe('image/png');
        expect(object.Metadata?.sha256).toBe(sha256(original));
        expect(result.archived?.[n]?.sha256).toBe(sha256(original));
      }
    } finally {
      client.destroy();
    }
  });

  it.each([
    ['over ATELIER_IMAGE_MAX_BYTES', { kind: 'oversized', bytes: 5000 } as const, 'too_large'],
    ['not an image', { kind: 'wrong-type' } as const, 'wrong_type'],
  ])(
    'an image %s dead-letters IMAGE_ARCHIVE_FAILED at once, taskId kept, paid once, polled no more',
    async (_what, fault, reason) => {
      const { stack, dir } = await archivingStack({ ATELIER_IMAGE_MAX_BYTES: '1024' });
      stack.sim.setFaults({ image: fault });
      await stack.startWorker();
      const text = `refused image ${reason}`;
      const id = await stack.enqueue({ text, num: 2 });

      const entry = await stack.dead(id);
      expect(entry).toMatchObject({ code: 'IMAGE_ARCHIVE_FAILED', attempts: 1 });
      expect(entry.message).toContain('image 0:');
      expect(entry.taskId).toMatch(/^\d{19}$/);
      expect(stack.sim.submitsFor(text)).toBe(1);
      expect(stack.sim.counters().tasksCreated).toBe(1);
      const job = await stack.job(id);
      expect(job?.data.state?.finished?.images).toHaveLength(2);
      // Every query was a poll before the task finished; none after.
      expect(stack.sim.queriesFor(entry.taskId as string)).toBe(job?.data.state?.polls);
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('a download that keeps failing is retried with backoff, then dead-lettered; one submit', async () => {
    const { stack } = await archivingStack();
    stack.sim.setFaults({ image: { kind: 'http', status: 503 } });
    await stack.startWorker();
    const text = 'provider images unavailable';
    const id = await stack.enqueue({ text });

    const entry = await stack.dead(id, 30_000);
    expect(entry.code).toBe('IMAGE_ARCHIVE_FAILED');
    expect(entry.attempts).toBe(8);
    expect(entry.history.map((h) => h.code)).toEqual(Array(8).fill('IMAGE_ARCHIVE_FAILED'));
    expect(entry.history.at(-1)?.message).toContain('answered HTTP 503');
    // Backoff between the attempts: later gaps are not shorter than the first ones.
    const at = entry.history.map((h) => h.at);
    expect((at[7] as number) - (at[6] as number)).toBeGreaterThanOrEqual(
      (at[1] as number) - (at[0] as number),
    );
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.counters().imageDownloads).toBe(8);
    const job = await stack.job(id);
    expect(stack.sim.queriesFor(entry.taskId as string)).toBe(job?.data.state?.polls);
  });

  it('between attempts the job reads retrying with IMAGE_ARCHIVE_FAILED, not polling', async () => {
    const { stack } = await archivingStack({ ATELIER_RETRY_BASE_MS: '60000' });
    stack.sim.setFaults({ image: { kind: 'http', status: 503 } });
    await stack.startWorker();
    const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
    ctx.onCleanup(() => producer.close());
    const id = await stack.enqueue({ text: 'backing off' });
    const status = await waitFor(
      async () => {
        const job = await producer.getJob(id);
        return job.state === 'retrying' ? job : undefined;
      },
      { what: 'the job to back off' },
    );
    expect(status.error).toMatchObject({
      code: 'IMAGE_ARCHIVE_FAILED',
      message: expect.stringContaining('answered HTTP 503'),
    });
    expect(stack.sim.counters().imageDownloads).toBe(1);
  });

  it('a replay resumes at the download: no second submit, no poll, the images stored', async () => {
    const { stack, dir } = await archivingStack();
    stack.sim.setFaults({ image: { kind: 'wrong-type' } });
    await stack.startWorker();
    const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
    ctx.onCleanup(() => producer.close());
    const text = 'replayed archive';
    const id = await stack.enqueue({ text, num: 2 });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('IMAGE_ARCHIVE_FAILED');
    const queries = stack.sim.queriesFor(entry.taskId as string);
    const downloads = stack.sim.counters().imageDownloads;

    stack.sim.setFaults({ image: null });
    await producer.replayDeadLetter(id);
    const job = await stack.completed(id);
    expect(job.returnvalue.taskId).toBe(entry.taskId);
    expect(job.returnvalue.archived?.map((a) => a.key)).toEqual([`${id}/0.png`, `${id}/1.png`]);
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.queriesFor(entry.taskId as string)).toBe(queries);
    expect(stack.sim.counters().imageDownloads).toBe(downloads + 2);
    expect((await readdir(join(dir, id))).sort()).toEqual(['0.png', '1.png']);
    expect(await producer.getJob(id)).toMatchObject({
      state: 'completed',
      result: { archived: job.returnvalue.archived },
    });
  });

  it('a worker stopped mid-download hands the job back; the next one only downloads', async () => {
    const { stack } = await archivingStack();
    stack.sim.setFaults({ image: { kind: 'stall' } });
    const first = await stack.startWorker();
    const text = 'stopped while downloading';
    const id = await stack.enqueue({ text });
    await waitFor(() => stack.sim.counters().imageDownloads === 1, { what: 'the download' });
    const job = await stack.job(id);
    const taskId = job?.data.state?.taskId as string;
    const queries = stack.sim.queriesFor(taskId);
    await first.close(0);

    stack.sim.setFaults({ image: null });
    await stack.startWorker();
    const done = await stack.completed(id);
    expect(done.returnvalue.archived).toHaveLength(1);
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.queriesFor(taskId)).toBe(queries);
    expect(stack.sim.counters().imageDownloads).toBe(2);
  });

  it('without an image store a drawing completes with the provider URLs only, nothing downloaded', async () => {
    const stack = await DrawingStack.start(ctx);
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'no archive', num: 2 });
    const { returnvalue: result, data } = await stack.completed(id);
    expect(result.images).toHaveLength(2);
    expect(result.archived).toBeUndefined();
    expect(data.state?.finished).toBeUndefined();
    expect(stack.sim.counters().imageDownloads).toBe(0);
  });

  it('the address guard refuses the simulator on loopback unless ATELIER_IMAGE_ALLOW_PRIVATE', async () => {
    const { stack } = await archivingStack({ ATELIER_IMAGE_ALLOW_PRIVATE: 'false' });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'guarded' });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('IMAGE_ARCHIVE_FAILED');
    expect(entry.message).toContain('ATELIER_IMAGE_ALLOW_PRIVATE');
    expect(stack.sim.counters().imageDownloads).toBe(0);
  });
});
