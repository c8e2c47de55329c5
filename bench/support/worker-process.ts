import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The node flags of the worker's `start` script (`--max-semi-space-size=16`). */
export function workerStartFlags(): string[] {
  const pkg = new URL('../../packages/worker/package.json', import.meta.url);
  const start = (JSON.parse(readFileSync(pkg, 'utf8')) as { scripts: { start: string } }).scripts
    .start;
  return start.split(/\s+/).slice(1, -1);
}

export interface WorkerProcess {
  child: ChildProcess;
  /** The next message from the child (the first is `{ready: true}`). */
  next(): Promise<Record<string, number>>;
  /** Asks for the report and waits for it (the child closes its worker and exits). */
  report(): Promise<Record<string, number>>;
}

/**
 * `bench/support/pending-worker.ts` in its own process, configured by `env` like
 * `pnpm --filter @atelier/worker start`, with the start script's node flags and, as in
 * production, a submit journal of its own (`ATELIER_JOURNAL_DIR`, removed once it reported);
 * resolves once its worker is running.
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const journal = mkdtempSync(join(tmpdir(), 'atelier-bench-journal-'));
  const child = fork(new URL('./pending-worker.ts', import.meta.url), {
    env: { ...process.env, ATELIER_JOURNAL_DIR: journal, ...env },
    // BENCH_WORKER_FLAGS adds node flags (experiments: `--max-old-space-size=…`).
    execArgv: [
      ...workerStartFlags(),
      ...(process.env.BENCH_WORKER_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Array<Record<string, number>> = [];
  const waiting: Array<(m: Record<string, number>) => void> = [];
  child.on('message', (m) => {
    const message = m as Record<string, number>;
    const resolve = waiting.shift();
    if (resolve) resolve(message);
    else messages.push(message);
  });
  const next = () =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const queued = messages.shift();
      if (queued) return resolve(queued);
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
    });
  await next();
  return {
    child,
    next,
    report: async () => {
      child.send({ report: true });
      const report = await next();
      rmSync(journal, { recursive: true, force: true });
      return report;
    },
  };
}
