import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /**
   * Longest the process may take to stop after the first SIGTERM/SIGINT: past it, it logs and
   * exits with 1 whatever `stop` is waiting for (Redis gone, a hung socket).
   */
  deadlineMs: number;
  /** Stops the process's work; resolves with the exit code. */
  stop: (signal: NodeJS.Signals) => Promise<number>;
}

/**
 * SIGTERM and SIGINT of a process: the first runs `stop` and exits with its code, bounded by
 * `deadlineMs` (a timer that logs, then exits 1); a second signal exits at once (1).
 */
export function handleShutdown(options: ShutdownOptions): void {
  const { logger, deadlineMs, stop } = options;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping: exiting now');
      process.exit(1);
    }
    stopping = true;
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown deadline passed: exiting now');
      process.exit(1);
    }, deadlineMs);
    stop(signal).then(
      (code) => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
