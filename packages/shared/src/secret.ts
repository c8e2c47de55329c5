import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A configuration value that must never be printed. `String(secret)`, `JSON.stringify`,
 * `util.inspect` and pino all see `[redacted]`; only `reveal()` returns the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Replaces the values of secret-bearing query parameters in a URL or any string containing URLs. */
export function scrubUrl(text: string): string {
  return text.replace(SECRET_QUERY_PARAM, (_match, name: string) => `${name}=${REDACTED}`);
}

const SECRET_QUERY_PARAM =
  /\b(auth|signature|sign|ticket|token|appcode|secret|secretkey|apikey|api_key|key|authorization)=[^&\s"'#]*/gi;

export { REDACTED };
