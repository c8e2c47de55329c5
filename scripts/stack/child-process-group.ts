import { type ChildProcess, spawn } from 'node:child_process';

export interface ManagedChild {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const COLORS: Record<string, string> = { redis: '31', simulator: '35', worker: '33', api: '36' };

/**
 * The processes of the embedded stack: each line they print is prefixed with their name;
 * `stopAll` stops them in reverse start order with SIGTERM (SIGKILL after a grace period).
 */
export class ChildProcessGroup {
  readonly #children: ManagedChild[] = [];
  #onUnexpectedExit: ((name: string, code: number | null) => void) | undefined;
  #stopping = false;

  onUnexpectedExit(handler: (name: string, code: number | null) => void): void {
    this.#onUnexpectedExit = handler;
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ManagedChild {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const label = process.stdout.isTTY
      ? `\u001b[${COLORS[name] ?? '37'}m[${name}]\u001b[0m`
      : `[${name}]`;
    const relay = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n'))
        if (line.trim() !== '') stream.write(`${label} ${line}\n`);
    };
    child.stdout?.on('data', relay(process.stdout));
    child.stderr?.on('data', relay(process.stderr));
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        if (!this.#stopping) this.#onUnexpectedExit?.(name, code);
        resolve(code);
      });
    });
    const managed = { name, child, exited };
    this.#children.push(managed);
    return managed;
  }

  async stopAll(graceMs: number): Promise<void> {
    this.#stopping = true;
    for (const { child, exited } of [...this.#children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  }
}

/** Resolves with the first stdout line of `child` that `match` accepts. */
export function waitForLine(
  child: ChildProcess,
  match: (line: string) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error('timed out waiting for the process to start')),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        if (match(line)) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code} before it was ready`));
    });
  });
}
