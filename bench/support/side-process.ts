import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** What one measured run of a side cost, and what it saw. */
export interface SideRun {
  wallMs: number;
  /** Until the last job was added. */
  enqueueMs: number;
  /** CPU of the side's process over the run. */
  workerCpuMs: number;
  /** CPU of redis-server over the run (everything it did: enqueue, the side's work, cron). */
  redisCpuMs: number;
  /** Redis commands over the run, by name (`INFO commandstats`). */
  commands: Record<string, number>;
  /** Per taskId: when a poll saw it done (epoch ms). */
  seen: Map<string, number>;
}

interface Message {
  ready?: boolean;
  marked?: boolean;
  done?: boolean;
  cpuMs?: number;
  seen?: Array<[string, number]>;
}

/** The worker package's `start` flags (e.g. `--max-semi-space-size=16`), for every side alike. */
function startFlags(): string[] {
  const url = new URL('../../packages/worker/package.json', import.meta.url);
  const start = (JSON.parse(readFileSync(url, 'utf8')).scripts as { start: string }).start;
  return start.split(/\s+/).slice(1, -1);
}

/** `bench/support/drawing-side.ts` in its own process (see there), driven over IPC. */
export class SideProcess {
  readonly #child: ChildProcess;
  readonly #redis: Redis;
  readonly #inbox: Message[] = [];
  readonly #waiting: Array<(m: Message) => void> = [];

  private constructor(child: ChildProcess, redis: Redis) {
    this.#child = child;
    this.#redis = redis;
    child.on('message', (m: Message) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(m);
      else this.#inbox.push(m);
    });
  }

  static async start(env: Record<string, string>, redis: Redis): Promise<SideProcess> {
    const child = fork(new URL('./drawing-side.ts', import.meta.url), {
      env: { ...process.env, ...env },
      execArgv: [
        ...startFlags(),
        ...(process.env.BENCH_WORKER_FLAGS?.split(' ').filter(Boolean) ?? []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.setMaxListeners(0);
    const side = new SideProcess(child, redis);
    await side.#next('ready');
    return side;
  }

  /** Marks the clocks, runs `enqueue`, waits for `jobs` completions, reads the clocks. */
  async run(jobs: number, enqueue: () => Promise<void>): Promise<SideRun> {
    this.#child.send({ expect: jobs });
    await this.#next('marked');
    await this.#redis.config('RESETSTAT');
    const redisBefore = await redisCpuMs(this.#redis);
    const started = performance.now();
    const done = this.#next('done');
    await enqueue();
    const enqueueMs = performance.now() - started;
    await done;
    const wallMs = performance.now() - started;
    const redisCpu = (await redisCpuMs(this.#redis)) - redisBefore;
    const commands = await commandCounts(this.#redis);
    this.#child.send({ report: true });
    const report = await this.#next('cpuMs');
    return {
      wallMs,
      enqueueMs,
      workerCpuMs: report.cpuMs ?? Number.NaN,
      redisCpuMs: redisCpu,
      commands,
      seen: new Map(report.seen ?? []),
    };
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.send({ close: true });
    await exited;
  }

  #next(key: keyof Message): Promise<Message> {
    return new Promise((resolve, reject) => {
      const take = (m: Message) =>
        key in m ? resolve(m) : reject(new Error(`got ${JSON.stringify(m)}`));
      const queued = this.#inbox.shift();
      if (queued) return take(queued);
      this.#waiting.push(take);
      this.#child.once('exit', (code) => reject(new Error(`bench side exited with ${code}`)));
    });
  }
}

/** used_cpu_user + used_cpu_sys of redis-server, in ms. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 'NaN');
  return (value('used_cpu_user') + value('used_cpu_sys')) * 1000;
}

/** Calls per command since the last `CONFIG RESETSTAT` (minus the bench's own INFO/CONFIG). */
export async function commandCounts(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    const name = match[1] as string;
    if (name === 'info' || name.startsWith('config')) continue;
    counts[name] = Number(match[2]);
  }
  return counts;
}
