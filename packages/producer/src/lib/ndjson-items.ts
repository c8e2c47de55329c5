import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { AtelierError } from '@atelier/shared';

/** No batch item comes near this; a longer line is refused rather than buffered. */
const MAX_LINE_CHARS = 64 * 1024;

/** The codes an NDJSON body is refused with (the HTTP API answers them as 400 and 413). */
type NdjsonErrorCode = 'MALFORMED_JSON' | 'PAYLOAD_TOO_LARGE' | 'BAD_REQUEST';

function ndjsonError(
  code: NdjsonErrorCode,
  message: string,
  details?: Record<string, unknown>,
): AtelierError {
  return new AtelierError(message, { code, ...(details ? { details } : {}) });
}

/**
 * The JSON values of an NDJSON request body, parsed as the bytes arrive (one per non-blank
 * line; `\n` or `\r\n`). Remembers the line each item came from, so errors can name it, and
 * stops with `PAYLOAD_TOO_LARGE` past `maxBytes` (Fastify's body limit does not apply to a
 * streamed body) or `MALFORMED_JSON` at the first line that does not parse.
 */
export class NdjsonItems implements AsyncIterable<unknown> {
  readonly #body: Readable;
  readonly #maxBytes: number;
  #lines = new Uint32Array(1024);
  #count = 0;

  constructor(body: Readable, maxBytes: number) {
    this.#body = body;
    this.#maxBytes = maxBytes;
  }

  /** Line number (1-based) of item `index`. */
  lineOf(index: number): number | undefined {
    return index < this.#count ? this.#lines[index] : undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let bytes = 0;
    let line = 0;
    let rest = '';
    const parse = (text: string): { value: unknown } | undefined => {
      line++;
      const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (trimmed.trim() === '') return undefined;
      try {
        const value: unknown = JSON.parse(trimmed);
        this.#remember(line);
        return { value };
      } catch {
        throw ndjsonError('MALFORMED_JSON', `line ${line} is not valid JSON`, { line });
      }
    };
    for await (const chunk of this.#body) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      if (bytes > this.#maxBytes) {
        throw ndjsonError(
          'PAYLOAD_TOO_LARGE',
          `the request body is larger than ${this.#maxBytes} bytes`,
        );
      }
      const text = rest + this.#decode(decoder, buffer, false);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const current of lines) {
        const item = parse(current);
        if (item) yield item.value;
      }
      if (rest.length > MAX_LINE_CHARS) {
        const at = line + 1;
        throw ndjsonError(
          'MALFORMED_JSON',
          `line ${at} is longer than ${MAX_LINE_CHARS} characters`,
          { line: at },
        );
      }
    }
    const last = parse(rest + this.#decode(decoder, undefined, true));
    if (last) yield last.value;
  }

  #decode(decoder: TextDecoder, buffer: Buffer | undefined, end: boolean): string {
    try {
      return decoder.decode(buffer, { stream: !end });
    } catch {
      throw ndjsonError('BAD_REQUEST', 'the request body is not valid UTF-8');
    }
  }

  #remember(line: number): void {
    if (this.#count === this.#lines.length) {
      const grown = new Uint32Array(this.#lines.length * 2);
      grown.set(this.#lines);
      this.#lines = grown;
    }
    this.#lines[this.#count++] = line;
  }
}
