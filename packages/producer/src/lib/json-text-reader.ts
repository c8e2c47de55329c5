import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { AtelierError } from '@atelier/shared';

/** The codes a streamed JSON body is refused with (the HTTP API answers them as 400 and 413). */
type JsonBodyErrorCode = 'MALFORMED_JSON' | 'PAYLOAD_TOO_LARGE' | 'BAD_REQUEST';

export function jsonBodyError(
  code: JsonBodyErrorCode,
  message: string,
  details?: Record<string, unknown>,
): AtelierError {
  return new AtelierError(message, { code, ...(details ? { details } : {}) });
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** Where a number or literal starting at `from` ends (before a delimiter); -1: not in `t`. */
function scalarEnd(t: string, from: number): number {
  for (let i = from; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || WHITESPACE.has(c)) return i;
  }
  return -1;
}

/**
 * Where a string, object or array that started earlier (its progress in `state`) ends: the
 * index after its closing character, or -1 when it goes on past `t`.
 */
function valueEnd(
  t: string,
  from: number,
  state: { depth: number; inString: boolean; escaped: boolean },
): number {
  let i = from;
  const n = t.length;
  while (i < n) {
    if (state.inString) {
      // The tight loop of a long value: characters of strings.
      for (; i < n; i++) {
        const c = t.charCodeAt(i);
        if (state.escaped) state.escaped = false;
        else if (c === BACKSLASH) state.escaped = true;
        else if (c === QUOTE) break;
      }
      if (i === n) return -1;
      state.inString = false;
      i++;
      if (state.depth === 0) return i;
      continue;
    }
    const c = t.charCodeAt(i++);
    if (c === QUOTE) state.inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) state.depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --state.depth === 0) return i;
  }
  return -1;
}

/**
 * Reads JSON text from a request body as it arrives, a character at a time where the structure
 * matters and a whole value at a time where it does not: `value()` returns the text of the next
 * JSON value (a string, number, literal, object or array — nesting is counted, never recursed
 * into) for `JSON.parse`. Only the text not consumed yet is held, so memory stays at about one
 * chunk plus the value being read (at most `maxValueChars`). Stops with `PAYLOAD_TOO_LARGE`
 * past `maxBytes` (Fastify's body limit does not apply to a streamed body) and `BAD_REQUEST`
 * on bytes that are not UTF-8.
 */
export class JsonTextReader {
  readonly #chunks: AsyncIterator<unknown>;
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #text = '';
  #pos = 0;
  #bytes = 0;
  /** Characters consumed before `#text` (for positions in messages). */
  #offset = 0;
  #ended = false;

  constructor(body: Readable, maxBytes: number) {
    this.#chunks = body[Symbol.asyncIterator]();
    this.#maxBytes = maxBytes;
  }

  /** Position (in characters from the start of the body) of the next character. */
  get position(): number {
    return this.#offset + this.#pos;
  }

  /** The next non-whitespace character, not consumed; `undefined` at the end of the body. */
  async peek(): Promise<string | undefined> {
    for (;;) {
      while (this.#pos < this.#text.length) {
        if (!WHITESPACE.has(this.#text.charCodeAt(this.#pos))) return this.#text[this.#pos];
        this.#pos++;
      }
      if (!(await this.#fill())) return undefined;
    }
  }

  /** Consumes the next non-whitespace character, which must be one of `expected`. */
  async expect(expected: string, what: string): Promise<string> {
    const next = await this.peek();
    if (next === undefined || !expected.includes(next)) {
      const found = next === undefined ? 'the end of the body' : JSON.stringify(next);
      throw this.malformed(`expected ${what} at character ${this.position}, found ${found}`);
    }
    this.#pos++;
    return next;
  }

  /**
   * The text of the next JSON value (leading whitespace skipped), at most `maxChars` long;
   * `what` names it in errors. Its syntax is left to `JSON.parse`.
   */
  async value(maxChars: number, what: string): Promise<string> {
    const first = await this.peek();
    if (first === undefined) throw this.malformed(`${what}: the body ended before its value`);
    const start = this.position;
    const kind = first.charCodeAt(0);
    const scalar = kind !== OPEN_BRACE && kind !== OPEN_BRACKET && kind !== QUOTE;
    // Carried across chunks: nesting depth, inside a string, after a backslash in one.
    const state = { depth: 0, inString: false, escaped: false };
    let text = '';
    for (;;) {
      const t = this.#text;
      const end = scalar ? scalarEnd(t, this.#pos) : valueEnd(t, this.#pos, state);
      const piece = t.slice(this.#pos, end < 0 ? t.length : end);
      if (text.length + piece.length > maxChars) {
        throw this.malformed(`${what} is longer than ${maxChars} characters`, { at: what });
      }
      text += piece;
      this.#pos = end < 0 ? t.length : end;
      if (end >= 0) return text;
      if (!(await this.#fill())) {
        // A number or literal may end the body; anything else was cut off.
        if (scalar && text !== '') return text;
        throw this.malformed(
          `${what}: the body ended inside the value starting at character ${start}`,
        );
      }
    }
  }

  /** `JSON.parse` of a value's text, refusing it as MALFORMED_JSON naming `what`. */
  parse(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw this.malformed(`${what} is not valid JSON`, { at: what });
    }
  }

  malformed(message: string, details: Record<string, unknown> = {}): AtelierError {
    return jsonBodyError('MALFORMED_JSON', message, { position: this.position, ...details });
  }

  /** Reads the next chunk into the buffer (dropping what was consumed); false at the end. */
  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const next = await this.#chunks.next();
    this.#offset += this.#pos;
    this.#text = this.#text.slice(this.#pos);
    this.#pos = 0;
    if (next.done) {
      this.#ended = true;
      const tail = this.#decode(undefined, true);
      this.#text += tail;
      return tail.length > 0;
    }
    const buffer = next.value as Buffer;
    this.#bytes += buffer.length;
    if (this.#bytes > this.#maxBytes) {
      throw jsonBodyError(
        'PAYLOAD_TOO_LARGE',
        `the request body is larger than ${this.#maxBytes} bytes`,
      );
    }
    this.#text += this.#decode(buffer, false);
    return true;
  }

  #decode(buffer: Buffer | undefined, end: boolean): string {
    try {
      return this.#decoder.decode(buffer, { stream: !end });
    } catch {
      throw jsonBodyError('BAD_REQUEST', 'the request body is not valid UTF-8');
    }
  }
}
