import type { Logger } from 'pino';

/**
 * No silent deaths: a promise rejected with nobody to hear it (a background task that failed)
 * is logged and the process carries on; an exception nothing caught is logged (fatal) before
 * the process exits with 1. Both as JSON lines, like every other line the process prints.
 */
export function guardProcess(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'a background task failed (unhandled rejection); carrying on');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: exiting');
    process.exit(1);
  });
}
