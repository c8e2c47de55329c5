import type { Logger } from '@atelier/shared';

/** Error codes of a connection to Redis that is down or gone (its reconnects say so). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);

/**
 * The `error` listener of a BullMQ queue or worker on the process's shared connection (without
 * one, BullMQ prints raw stack traces on stderr): errors of the connection itself, which every
 * object on it repeats and the connection's own listener logs already, at debug; any other at
 * `level`, as a JSON line like every other.
 */
export function redisErrorListener(
  logger: Logger,
  message: string,
  level: 'warn' | 'error' = 'warn',
): (err: Error) => void {
  return (err) => {
    if (isConnectionError(err)) logger.debug({ err }, message);
    else logger[level]({ err }, message);
  };
}

function isConnectionError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return /Connection is closed|Stream isn't writeable|connect ETIMEDOUT/.test(err.message);
}
