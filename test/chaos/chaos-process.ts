import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/** How one process ended after a signal. */
export interface ExitTiming {
  name: string;
  /** Seconds from the signal to the exit; undefined when it had to be SIGKILLed. */
  seconds: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One process of the chaos stack, started and restarted with the same command and
 * environment; everything it prints is appended to its log file, and its lines can be waited on.
 */
export class ChaosProcess {
  readonly name: string;
  readonly logFile: string;
  /** How many times it was started. */
  starts = 0;
  readonly #command: string;
  readonly #args: string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: WriteStream;
  readonly #watchers = new Set<(line: string) => void>();
  #child: ChildProcess | undefined;
  #exit: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  /** Set while the harness itself is killing or stopping the process. */
  #expectingExit = false;
  #onUnexpectedExit: ((exit: Exit) => void) | undefined;

  constructor(
    name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.name = name;
    this.#command = command;
    this.#args = args;
    this.#env = env;
    this.logFile = logFile;
    this.#log = createWriteStream(logFile, { flags: 'a' });
  }

  /** Hears about exits the harness did not cause (a crash). */
  onUnexpectedExit(handler: (exit: Exit) => void): void {
    this.#onUnexpectedExit = handler;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts it and resolves with the first line `ready` accepts (rejects if it exits first). */
  async start(ready: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.#expectingExit = false;
    this.#log.write(`--- ${this.name} start #${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(this.#command, this.#args, {
      env: this.#env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exit = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#log.write(`--- ${this.name} exited (code ${code}, signal ${signal})\n`);
        resolve({ code, signal });
        if (!this.#expectingExit) this.#onUnexpectedExit?.({ code, signal });
      });
      child.once('error', (error) => {
        this.#log.write(`--- ${this.name} could not start: ${error.message}\n`);
        resolve({ code: null, signal: null });
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        this.#log.write(chunk);
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) for (const watcher of this.#watchers) watcher(l);
      });
    }
    // No output can arrive before this synchronous code ends: the watcher sees every line.
    return this.#nextLine(ready, timeoutMs);
  }

  /** SIGKILL (or `signal`) and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.#expectingExit = true;
    this.#child?.kill(signal);
    await this.#exit;
  }

  /** Sends `signal` and times the exit; SIGKILL once `giveUpMs` have passed. */
  async stop(signal: NodeJS.Signals, giveUpMs: number): Promise<ExitTiming> {
    if (!this.running) return { name: this.name, seconds: 0, code: null, signal: null };
    const started = performance.now();
    this.#expectingExit = true;
    this.#child?.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => {
      timer = setTimeout(() => resolve('gave up'), giveUpMs);
    });
    const first = await Promise.race([this.#exit, gaveUp]);
    clearTimeout(timer);
    if (first === 'gave up') {
      this.#log.write(`--- ${this.name} still running ${giveUpMs} ms after ${signal}: SIGKILL\n`);
      await this.kill('SIGKILL');
      return { name: this.name, seconds: undefined, code: null, signal: 'SIGKILL' };
    }
    return { name: this.name, seconds: (performance.now() - started) / 1000, ...first };
  }

  async closeLog(): Promise<void> {
    await new Promise<void>((resolve) => this.#log.end(resolve));
  }

  #nextLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#watchers.delete(watch);
        settle();
      };
      const watch = (line: string) => {
        if (match(line)) done(() => resolve(line));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name} not ready after ${timeoutMs} ms`))),
        timeoutMs,
      );
      this.#watchers.add(watch);
      this.#exit.then((exit) =>
        done(() =>
          reject(
            new Error(
              `${this.name} exited before it was ready (code ${exit.code}): ${this.logFile}`,
            ),
          ),
        ),
      );
    });
  }
}
