import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TEST_SCRIPT = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
/** The real entry point (`pnpm --filter @atelier/worker start`). */
const REAL_SCRIPT = fileURLToPath(
  new URL('../../packages/worker/src/bin/worker.ts', import.meta.url),
);

export interface ChildWorker {
  process: ChildProcess;
  output: () => string;
  /** SIGKILL: the process dies at once, holding whatever it held. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  terminate(): Promise<number | null>;
}

/**
 * Starts a worker in its own process and waits until it takes jobs. `entry: 'real'` runs the
 * production entry point (signals, config errors and all); the default test entry also takes
 * TEST_* lock timings.
 */
export async function startChildWorker(
  env: Record<string, string>,
  options: { entry?: 'test' | 'real' } = {},
): Promise<ChildWorker> {
  const script = options.entry === 'real' ? REAL_SCRIPT : TEST_SCRIPT;
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, LOG_LEVEL: options.entry === 'real' ? 'info' : 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker child did not start:\n${output}`)),
      20_000,
    );
    const check = () => {
      if (output.includes('ready\n') || output.includes('"msg":"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker child exited with ${code}:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
  return {
    process: child,
    output: () => output,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
