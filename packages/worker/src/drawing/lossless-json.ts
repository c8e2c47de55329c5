/** What `JSON.parse` hands a reviver as third argument (Node ≥ 21: source text access). */
interface ReviverContext {
  source?: string;
}

type Reviver = (this: unknown, key: string, value: unknown, context?: ReviverContext) => unknown;

const INTEGER_LITERAL = /^-?\d+$/;

/**
 * `JSON.parse`, except that an integer literal too large to be a safe JavaScript number
 * (a provider `taskId` beyond 2^53) comes back as its exact decimal string instead of a
 * rounded number. Every other value parses as usual. Throws `SyntaxError` like `JSON.parse`.
 */
export function parseLosslessJson(text: string): unknown {
  const reviver: Reviver = (_key, value, context) => {
    if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
    const source = context?.source;
    return source !== undefined && INTEGER_LITERAL.test(source) ? source : value;
  };
  return JSON.parse(text, reviver);
}
