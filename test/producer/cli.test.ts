import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCliEnvironment } from '@atelier/producer/cli';
import { type DrawingJobData, QUEUE_NAMES } from '@atelier/shared';
import { BatchLedger, DeadLetterStore } from '@atelier/store';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
const dirs: string[] = [];
afterEach(async () => {
  await ctx.cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'packages/producer/src/bin/cli.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(prefix: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, REDIS_URL: ctx.url, ATELIER_QUEUE_PREFIX: prefix };
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function file(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-cli-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function queue(prefix: string) {
  const q = new Queue<DrawingJobData>(QUEUE_NAMES.drawing, {
    connection: ctx.connection(),
    prefix,
  });
  ctx.onCleanup(() => q.close());
  return q;
}

describe('atelier CLI (child process)', () => {
  it('draw queues a drawing and prints its id; job prints its status', async () => {
    const prefix = ctx.prefix('cli');
    const env = cliEnv(prefix);
    const drawn = await run(
      ['draw', 'a cat, in "quotes"', '--style', '油画', '--resolution', '1024*1536', '--num', '2'],
      env,
    );
    expect(drawn.code, drawn.stderr).toBe(0);
    const id = drawn.stdout.trim();
    expect(id).toMatch(/^dr_/);
    const job = await queue(prefix).getJob(id);
    expect(job?.data.task).toEqual({
      text: 'a cat, in "quotes"',
      style: '油画',
      resolution: '1024*1536',
      num: 2,
    });

    const status = await run(['job', id], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({
      id,
      kind: 'drawing',
      state: 'queued',
      attempts: 0,
    });

    const missing = await run(['job', 'dr_missing'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
  });

  it('draw --wait prints the result of a completed drawing, and exits 1 naming the code of a dead one', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('refused', { submit: [{ code: 202 }] });
    await stack.startWorker();
    const env = cliEnv(stack.prefix);

    const done = await run(['draw', 'a lighthouse', '--wait'], env);
    expect(done.code, done.stderr).toBe(0);
    const [id, ...rest] = done.stdout.split('\n');
    expect(id).toMatch(/^dr_/);
    const result = JSON.parse(rest.join('\n'));
    expect(result.images.length).toBe(1);
    expect(result.taskId).toMatch(/^\d+$/);
    expect(done.stderr).toContain(`${id}: completed`);

    const dead = await run(['draw', 'refused', '--wait'], env);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/failed: \[202\]/);
  });

  it('batch submit reads a CSV (quoted commas, doubled quotes, UTF-8) and batch status reports it', async () => {
    const prefix = ctx.prefix('cli');
    const env = cliEnv(prefix);
    const csv = file(
      'drawings.csv',
      '\uFEFFtext,style,resolution,num\r\n"a cat, sitting",油画,1024*1024,2\r\n"he said ""hi""",古风,1024*1024,\r\n"multi\nline",二次元,1536*1024,1\r\n',
    );
    const submitted = await run(['batch', 'submit', csv], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^b_/);
    const q = queue(prefix);
    const texts = await Promise.all(
      [0, 1, 2].map(async (i) => (await q.getJob(`dr_${id}~${i}`))?.data.task),
    );
    expect(texts).toEqual([
      { text: 'a cat, sitting', style: '油画', resolution: '1024*1024', num: 2 },
      { text: 'he said "hi"', style: '古风', resolution: '1024*1024', num: 1 },
      { text: 'multi\nline', style: '二次元', resolution: '1536*1024', num: 1 },
    ]);

    const status = await run(['batch', 'status', id], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      id,
      total: 3,
      completed: 0,
      dead: 0,
      pending: 3,
      state: 'open',
    });
  });

  it('batch pause, resume and cancel steer a batch and print it; a finished batch exits 1 naming the code', async () => {
    const prefix = ctx.prefix('cli');
    const env = cliEnv(prefix);
    const jsonl = file(
      'drawings.jsonl',
      '{"text":"a","style":"油画","resolution":"1024*1024"}\n{"text":"b","style":"油画","resolution":"1024*1024"}\n',
    );
    const id = (await run(['batch', 'submit', jsonl], env)).stdout.trim();

    const paused = await run(['batch', 'pause', id], env);
    expect(paused.code, paused.stderr).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ id, state: 'paused' });
    expect(paused.stderr).toMatch(/paused: nothing new is submitted/);
    const resumed = await run(['batch', 'resume', id], env);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id, state: 'open' });

    // No worker runs: the cancel ends both waiting items (the CLI tends before it exits).
    const cancelled = await run(['batch', 'cancel', id], env);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id, state: 'cancelling', pending: 2 });
    expect(cancelled.stderr).toMatch(/nothing more is submitted/);
    const status = await run(['batch', 'status', id], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: 'cancelled',
      cancelled: 2,
      pending: 0,
    });

    const refused = await run(['batch', 'pause', id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^BATCH_CANCELLED: batch .* is cancelled: it cannot be paused/);
    expect((await run(['batch', 'cancel'], env)).code).toBe(2);
  });

  it('batch submit names the line of a bad JSONL line, exits 1 and queues nothing', async () => {
    const prefix = ctx.prefix('cli');
    const env = cliEnv(prefix);
    const good = JSON.stringify({ text: 'ok', style: '油画', resolution: '1024*1024' });
    const invalid = file(
      'bad.jsonl',
      `${good}\n\n${JSON.stringify({ text: 'x', style: 'nope', resolution: '1024*1024' })}\n${good}\n`,
    );
    const result = await run(['batch', 'submit', invalid], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${invalid}: line 3: style must be one of`);
    const malformed = file('broken.jsonl', `${good}\n{"text": \n`);
    const broken = await run(['batch', 'submit', malformed], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('line 2 is not valid JSON');
    expect(await queue(prefix).count()).toBe(0);
  });

  it('batch submit names the line of a malformed CSV record', async () => {
    const env = cliEnv(ctx.prefix('cli'));
    const cases: Array<[string, string]> = [
      ['text,style,resolution\na,油画,1024*1024\nb,油画\n', 'line 3: expected 3 fields'],
      ['text,style,resolution\n"open,油画,1024*1024\n', 'line 2: unterminated quoted field'],
      ['text,colour\n', 'line 1: unknown column "colour"'],
      ['text,style,resolution\nab"c,油画,1024*1024\n', 'line 2: a quote inside an unquoted field'],
    ];
    for (const [content, message] of cases) {
      const result = await run(['batch', 'submit', file('bad.csv', content)], env);
      expect(result.code, content).toBe(1);
      expect(result.stderr).toContain(message);
    }
  });

  it('batch submit --wait shows progress, writes --out and exits 1 when an item is dead', async () => {
    const prefix = ctx.prefix('cli');
    const lines = ['a', 'b', 'c'].map((text) =>
      JSON.stringify({ text, style: '油画', resolution: '1024*1024' }),
    );
    const path = file('wait.jsonl', lines.join('\n'));
    const out = join(dirs[0] as string, 'results.jsonl');
    const child: ChildProcess = spawn(
      process.execPath,
      [CLI, 'batch', 'submit', path, '--wait', '--out', out, '--idempotency-key', 'cli-wait'],
      { env: cliEnv(prefix), cwd: ROOT },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    ctx.onCleanup(async () => child.kill());

    const ledger = new BatchLedger(ctx.connection(), prefix);
    await waitFor(async () => (await ledger.get('b_cli-wait'))?.enqueued === 3, {
      what: 'batch queued',
    });
    const jobId = (i: number) => `dr_b_cli-wait~${i}`;
    await ledger.settle('b_cli-wait', {
      index: 0,
      jobId: jobId(0),
      state: 'completed',
      images: ['0.png'],
      taskId: 't0',
    });
    await ledger.settle('b_cli-wait', {
      index: 1,
      jobId: jobId(1),
      state: 'dead',
      code: '202',
      message: 'refused',
    });
    await ledger.settle('b_cli-wait', {
      index: 2,
      jobId: jobId(2),
      state: 'completed',
      images: ['2.png'],
      taskId: 't2',
    });

    expect(await exited).toBe(1);
    expect(stderr).toMatch(/3\/3 done · 1 dead/);
    const results = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results.map((r) => [r.index, r.state])).toEqual([
      [0, 'completed'],
      [1, 'dead'],
      [2, 'completed'],
    ]);
  });

  it('dlq list prints dead letters (and --json), dlq replay and purge act on them', async () => {
    const prefix = ctx.prefix('cli');
    const env = cliEnv(prefix);
    const store = new DeadLetterStore(ctx.connection(), prefix);
    for (const [id, code] of [
      ['dr_dead1', 'POLL_TIMEOUT'],
      ['dr_dead2', '202'],
    ]) {
      await store.insert({
        id: id as string,
        queue: 'drawing',
        kind: 'drawing',
        code: code as string,
        message: 'it failed',
        attempts: 1,
        history: [],
        taskId: 'task-1',
        request: { text: 't', style: '油画', resolution: '1024*1024', num: 1 },
        meta: { enqueuedAt: 1 },
        failedAt: Date.now(),
      });
    }
    const listed = await run(['dlq', 'list', '--code', 'POLL_TIMEOUT'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('dr_dead1\tdrawing\tPOLL_TIMEOUT');
    expect(listed.stdout).not.toContain('dr_dead2');
    expect(listed.stdout).toContain('1 shown of 1');
    const json = await run(['dlq', 'list', '--json'], env);
    expect(JSON.parse(json.stdout).total).toBe(2);

    expect((await run(['dlq', 'replay', 'dr_dead1'], env)).code).toBe(0);
    expect(await queue(prefix).getJob('dr_dead1')).toBeDefined();
    const purged = await run(['dlq', 'purge', '--all-matching', '--code', '202'], env);
    expect(purged.stdout.trim()).toBe('purged 1');
    expect(await store.count()).toBe(0);
  });

  it('dlq replay|purge --all-matching without a filter refuses unless --all is given', async () => {
    const prefix = ctx.prefix('cli');
    const env = cliEnv(prefix);
    const store = new DeadLetterStore(ctx.connection(), prefix);
    for (const id of ['dr_all1', 'dr_all2', 'dr_all3']) {
      await store.insert({
        id,
        queue: 'drawing',
        kind: 'drawing',
        code: '202',
        message: 'it failed',
        attempts: 1,
        history: [],
        request: { text: 't', style: '油画', resolution: '1024*1024', num: 1 },
        meta: { enqueuedAt: 1 },
        failedAt: Date.now(),
      });
    }
    for (const action of ['replay', 'purge']) {
      const refused = await run(['dlq', action, '--all-matching'], env);
      expect(refused.code, action).toBe(2);
      expect(refused.stderr).toContain(`would ${action} every dead letter: add --all`);
    }
    expect((await run(['dlq', 'purge', 'dr_all1', '--all'], env)).code).toBe(2);
    expect(await store.count()).toBe(3);

    const replayed = await run(['dlq', 'replay', '--all-matching', '--all'], env);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout.trim()).toBe('replayed 3');
    expect(await store.count()).toBe(0);
    expect(await queue(prefix).getJob('dr_all3')).toBeDefined();
  });

  it('exits 2 on usage errors', async () => {
    const env = cliEnv(ctx.prefix('cli'));
    for (const args of [
      [],
      ['bogus'],
      ['draw'],
      ['draw', 'x', '--num', 'two'],
      ['dlq', 'replay'],
      ['batch', 'submit', 'x.txt'],
    ]) {
      const result = await run(args, env);
      expect(result.code, args.join(' ')).toBe(2);
    }
    expect((await run(['help'], env)).code).toBe(0);
  });
});

describe('CLI environment', () => {
  it('reads .data/stack.json when REDIS_URL is unset, and says what to do when it is missing', async () => {
    const prefix = ctx.prefix('cli');
    const stack = file(
      'stack.json',
      JSON.stringify({ redisUrl: ctx.url, prefix, apiUrl: 'http://127.0.0.1:3000', apiKey: 'k' }),
    );
    const env = await openCliEnvironment({}, stack);
    ctx.onCleanup(() => env.producer.close());
    expect(env.source).toBe('stack file');
    expect(env.producer.prefix).toBe(prefix);
    await env.producer.ping();

    await expect(
      openCliEnvironment({}, join(tmpdir(), 'no-such-dir', 'stack.json')),
    ).rejects.toThrow(/set REDIS_URL, or start the stack with `pnpm start`/);
  });

  it("takes the stack's callback secret and private-URL setting unless the environment sets them", async () => {
    const prefix = ctx.prefix('cli');
    const local = { text: 'x', style: '油画', resolution: '1024*1024' };
    const callbackUrl = 'http://127.0.0.1:9/hook';
    const open = async (stackFields: object, env: Record<string, string> = {}) => {
      const stack = file(
        'stack.json',
        JSON.stringify({ redisUrl: ctx.url, prefix, ...stackFields }),
      );
      const opened = await openCliEnvironment(env, stack);
      ctx.onCleanup(() => opened.producer.close());
      return opened.producer;
    };
    const fromStack = await open({ callbackSecret: 'stack-secret', callbackAllowPrivate: true });
    const { id } = await fromStack.enqueueDrawing({ ...local, callbackUrl });
    expect((await queue(prefix).getJob(id))?.data.meta.callbackUrl).toBe(callbackUrl);

    const envWins = await open(
      { callbackSecret: 'stack-secret', callbackAllowPrivate: true },
      { ATELIER_CALLBACK_ALLOW_PRIVATE: 'false' },
    );
    await expect(envWins.enqueueDrawing({ ...local, callbackUrl })).rejects.toMatchObject({
      code: 'CALLBACK_URL_REFUSED',
    });
    const oldStack = await open({});
    await expect(oldStack.enqueueDrawing({ ...local, callbackUrl })).rejects.toMatchObject({
      code: 'CALLBACKS_DISABLED',
    });
  });
});
