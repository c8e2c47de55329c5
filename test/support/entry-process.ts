import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY_POINTS = {
  worker: fileURLToPath(new URL('../../packages/worker/src/bin/worker.ts', import.meta.url)),
  api: fileURLToPath(new URL('../../packages/producer/src/bin/api.ts', import.meta.url)),
};

export interface EntryProcess {
  process: ChildProcess;
  /** Everything printed so far, per stream. */
  stdout(): string;
  stderr(): string;
  /** Every non-empty line printed on either stream. */
  lines(): string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit up to `limitMs`: the exit code and how
   * long it took, or `undefined` when it was still running then (it is SIGKILLed).
   */
  stopWithin(
    limitMs: number,
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; ms: number } | undefined>;
  kill(): Promise<void>;
}

/**
 * Runs a real entry point (`pnpm --filter @atelier/worker start`, `… producer start`) as a child
 * process with `env` on top of this one's, and waits for the line `ready` accepts.
 */
export async function startEntryProcess(
  entry: keyof typeof ENTRY_POINTS,
  env: Record<string, string>,
  ready: (line: string) => boolean,
): Promise<EntryProcess> {
  const child = spawn(process.execPath, [ENTRY_POINTS[entry]], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
  });
  const lines = () => `${stdout}\n${stderr}`.split('\n').filter((line) => line.trim() !== '');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} did not start:\n${stdout}${stderr}`)),
      20_000,
    );
    const check = () => {
      if (lines().some(ready)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before it was ready:\n${stdout}${stderr}`));
    });
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines,
    exited,
    async stopWithin(limitMs, signal = 'SIGTERM') {
      const started = Date.now();
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), limitMs);
      });
      const code = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (code === 'late') {
        await kill();
        return undefined;
      }
      return { code, ms: Date.now() - started };
    },
    kill,
  };
}

/** The lines that are not one JSON object each (raw stack traces, bare messages). */
export function nonJsonLines(lines: string[]): string[] {
  return lines.filter((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value !== 'object' || value === null;
    } catch {
      return true;
    }
  });
}
