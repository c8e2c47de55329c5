/** What `JSON.parse` hands a reviver as third argument (Node ≥ 21: source text access). */
interface ReviverContext {
  source?: string;
}

type Reviver = (this: unknown, key: string, value: unknown, context?: ReviverContext) => unknown;

const INTEGER_LITERAL = /^-?\d+$/;
/** A bare (unquoted) integer literal of 16 or more digits somewhere in the text. */
const MAYBE_UNSAFE_INTEGER = /[:,[]\s*-?\d{16}/;

/**
 * `JSON.parse`, except that an integer literal too large to be a safe JavaScript number
 * (a provider `taskId` beyond 2^53) comes back as its exact decimal string instead of a
 * rounded number. Every other value parses as usual. Throws `SyntaxError` like `JSON.parse`.
 */
export function parseLosslessJson(text: string): unknown {
  // Fast path: without a bare integer of 16+ digits nothing can lose precision.
  if (!MAYBE_UNSAFE_INTEGER.test(text)) return JSON.parse(text);
  const reviver: Reviver = (_key, value, context) => {
    if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
    const source = context?.source;
    return source !== undefined && INTEGER_LITERAL.test(source) ? source : value;
  };
  return JSON.parse(text, reviver);
}
