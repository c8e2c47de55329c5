import { AtelierError } from '@atelier/shared';

/** A batch file that cannot be read as CSV/JSONL: the message names the line. */
export class FileFormatError extends AtelierError {
  override name = 'FileFormatError';

  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`, { code: 'BAD_FILE', details: { line } });
  }
}
