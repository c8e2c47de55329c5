import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchItemJobId, createProducer, type Producer } from '@atelier/producer';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'packages/producer/src/bin/cli.ts');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, ...env }, cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `atelier-${label}-`));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Manifest {
  index: number;
  prompt: string | null;
  style: string | null;
  state: string;
  files: string[];
  sha256: string[];
}

async function manifestOf(dir: string): Promise<Manifest[]> {
  const text = await readFile(join(dir, 'manifest.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Manifest);
}

/** A worker archiving into a folder, a producer, and the env the CLI needs to reach both. */
async function archivingBatchStack() {
  const images = await tempDir('archive');
  const env = { ATELIER_IMAGE_STORE: `fs:${images}`, ATELIER_IMAGE_ALLOW_PRIVATE: 'true' };
  const stack = await DrawingStack.start(ctx, { env });
  await stack.startWorker();
  const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
  ctx.onCleanup(() => producer.close());
  const cliEnv = { REDIS_URL: ctx.url, ATELIER_QUEUE_PREFIX: stack.prefix, ...env };
  return { stack, producer, cliEnv };
}

async function finished(producer: Producer, id: string) {
  return waitFor(
    async () => {
      const batch = await producer.getBatch(id);
      return batch.state === 'completed' ? batch : undefined;
    },
    { timeoutMs: 20_000, what: `batch ${id} to finish` },
  );
}

const ITEMS = [
  { text: 'a lighthouse at dusk', style: '油画', resolution: '1024*1024', num: 2 },
  { text: 'blocked: never drawn', style: '水彩画', resolution: '1024*1024', num: 1 },
  { text: 'a fox in the snow', style: '水彩画', resolution: '1024*1536', num: 1 },
  { text: 'three koi', style: '古风', resolution: '1536*1024', num: 3 },
];

describe('atelier batch download', () => {
  it('saves every archived image as <index>-<n>.<ext> with a manifest whose hashes match; a second run skips them', async () => {
    const { stack, producer, cliEnv } = await archivingBatchStack();
    stack.sim.setFaults({ blockedWords: ['blocked'] });
    const { id } = await producer.createBatch(ITEMS);
    await finished(producer, id);
    const dir = join(await tempDir('download'), 'pictures');

    const first = await cli(['batch', 'download', id, '--dir', dir], cliEnv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(join(dir, 'manifest.jsonl'));
    expect(first.stderr).toContain('6 images saved, 0 already there');
    expect(first.stderr).toContain('1 items dead');

    const manifest = await manifestOf(dir);
    expect(manifest).toEqual([
      {
        index: 0,
        prompt: ITEMS[0]?.text,
        style: '油画',
        state: 'completed',
        files: ['0-0.png', '0-1.png'],
        sha256: expect.any(Array),
      },
      { index: 1, prompt: ITEMS[1]?.text, style: '水彩画', state: 'dead', files: [], sha256: [] },
      {
        index: 2,
        prompt: ITEMS[2]?.text,
        style: '水彩画',
        state: 'completed',
        files: ['2-0.png'],
        sha256: expect.any(Array),
      },
      {
        index: 3,
        prompt: ITEMS[3]?.text,
        style: '古风',
        state: 'completed',
        files: ['3-0.png', '3-1.png', '3-2.png'],
        sha256: expect.any(Array),
      },
    ]);
    const results = new Map<number, string[]>();
    for await (const line of producer.batchResults(id)) {
      results.set(line.index, line.images ?? []);
      // A completed line carries the archived images, exactly as the job's result has them.
      const job = await stack.job(line.jobId);
      if (line.state === 'completed') expect(line.archived).toEqual(job?.returnvalue.archived);
      else expect(line.archived).toBeUndefined();
      if (line.state === 'completed') expect(line.archived).toHaveLength(line.images?.length ?? -1);
    }
    for (const line of manifest) {
      expect(line.sha256).toHaveLength(line.files.length);
      for (const [n, name] of line.files.entries()) {
        const saved = await readFile(join(dir, name));
        expect(sha256(saved)).toBe(line.sha256[n]);
        // The very bytes the provider served for that image.
        const url = results.get(line.index)?.[n] as string;
        expect(saved.equals(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(true);
      }
    }
    expect((await readdir(dir)).sort()).toEqual(
      ['0-0.png', '0-1.png', '2-0.png', '3-0.png', '3-1.png', '3-2.png', 'manifest.jsonl'].sort(),
    );

    const before = await stat(join(dir, '3-1.png'));
    const second = await cli(['batch', 'download', id, '--dir', dir], cliEnv);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('0 images saved, 6 already there');
    expect((await stat(join(dir, '3-1.png'))).mtimeMs).toBe(before.mtimeMs);
    expect(await manifestOf(dir)).toEqual(manifest);

    // A damaged file is fetched again; the others stay.
    await writeFile(join(dir, '3-1.png'), 'not the image');
    const third = await cli(['batch', 'download', id, '--dir', dir], cliEnv);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain('1 images saved, 5 already there');
    expect(sha256(await readFile(join(dir, '3-1.png')))).toBe(manifest[3]?.sha256[1]);
  });

  it('lists items still running as pending (no files) and says to run it again', async () => {
    const { stack, producer, cliEnv } = await archivingBatchStack();
    stack.sim.script('still drawing', { query: Array(500).fill({ status: 0 }) });
    const { id } = await producer.createBatch([
      { text: 'done already', style: '油画', resolution: '1024*1024' },
      { text: 'still drawing', style: '油画', resolution: '1024*1024' },
    ]);
    await waitFor(async () => (await producer.getBatch(id)).completed === 1, {
      what: 'the first item',
    });
    const dir = await tempDir('download');
    const run = await cli(['batch', 'download', id, '--dir', dir], cliEnv);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('1 items still pending (run again later)');
    expect(await manifestOf(dir)).toMatchObject([
      { index: 0, state: 'completed', files: ['0-0.png'] },
      { index: 1, prompt: 'still drawing', state: 'pending', files: [], sha256: [] },
    ]);
  });

  it('fails, naming the problem, when an image is gone from the store or its bytes changed', async () => {
    const { stack, producer, cliEnv } = await archivingBatchStack();
    const { id } = await producer.createBatch([
      { text: 'kept', style: '油画', resolution: '1024*1024' },
      { text: 'tampered', style: '油画', resolution: '1024*1024' },
      { text: 'lost', style: '油画', resolution: '1024*1024' },
    ]);
    await finished(producer, id);
    const archive = (cliEnv.ATELIER_IMAGE_STORE as string).slice(3);
    await writeFile(join(archive, batchItemJobId(id, 1), '0.png'), 'tampered');
    await rm(join(archive, batchItemJobId(id, 2), '0.png'));
    expect(stack.sim.counters().tasksCreated).toBe(3);

    const dir = await tempDir('download');
    const run = await cli(['batch', 'download', id, '--dir', dir], cliEnv);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/item 1: .*hash to [0-9a-f]{64}, not [0-9a-f]{64} as recorded/);
    expect(run.stderr).toMatch(/item 2: .*not in the image store/);
    expect(run.stderr).toContain('1 images saved, 0 already there, 2 FAILED');
    expect((await readdir(dir)).sort()).toEqual(['0-0.png', 'manifest.jsonl']);
    expect((await manifestOf(dir)).map((line) => line.files)).toEqual([['0-0.png'], [], []]);
  });

  it('refuses without an image store, and without --dir', async () => {
    const { producer, cliEnv } = await archivingBatchStack();
    const { id } = await producer.createBatch([
      { text: 'x', style: '油画', resolution: '1024*1024' },
    ]);
    const noStore = await cli(['batch', 'download', id, '--dir', await tempDir('d')], {
      ...cliEnv,
      ATELIER_IMAGE_STORE: 'none',
    });
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toContain('set ATELIER_IMAGE_STORE');
    const noDir = await cli(['batch', 'download', id], cliEnv);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('usage: atelier batch download <id> --dir <folder>');
    const unknown = await cli(['batch', 'download', 'b_nope', '--dir', await tempDir('d')], cliEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('NOT_FOUND');
  });
});
