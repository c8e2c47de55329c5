import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@atelier/shared';

/** A real Atelier logger whose lines are kept in memory (for asserting what is, and is not, logged). */
export function captureLogger(level = 'debug'): {
  logger: Logger;
  lines: string[];
  text: () => string;
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ name: 'test', level, destination });
  return { logger, lines, text: () => lines.join('') };
}
