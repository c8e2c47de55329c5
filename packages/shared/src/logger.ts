import {
  type DestinationStream,
  type Logger,
  type LoggerOptions,
  pino,
  stdSerializers,
} from 'pino';
import { REDACTED, scrubUrl } from './secret.ts';

/** Field names that carry secrets wherever they appear in a log object. */
export const SECRET_FIELDS = [
  'appSecret',
  'appCode',
  'secretKey',
  'secretId',
  'password',
  'authorization',
  'Authorization',
  'ticket',
  'signature',
  'apiKey',
  'apiKeys',
  'adminKeys',
  'callbackSecret',
  'secret',
  'token',
  'cookie',
] as const;

/** Header names that are not identifiers, redacted under any `headers` object. */
const SECRET_HEADERS = ['x-apig-appcode', 'X-Apig-AppCode', 'x-atelier-signature', 'set-cookie'];

const DEPTHS = ['', '*.', '*.*.', '*.*.*.'];

/** Every path pino redacts, fixed at start-up (fast-redact compiles them once). */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((field) => DEPTHS.map((prefix) => `${prefix}${field}`)),
  ...SECRET_HEADERS.flatMap((header) =>
    ['headers', '*.headers', '*.*.headers'].map((base) => `${base}["${header}"]`),
  ),
];

export interface LoggerFactoryOptions {
  name: string;
  level?: string;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: DestinationStream;
  /** Fields bound to every line. */
  base?: Record<string, unknown>;
}

/**
 * The one root logger of a process. Secrets are removed three ways: redaction of secret field
 * names at any of the first four levels, `Secret` values printing as `[redacted]`, and
 * scrubbing of `auth=`/`signature=`-style query parameters from messages and errors.
 */
export function createLogger(options: LoggerFactoryOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    base: { pid: process.pid, ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: {
      err: serializeError,
      error: serializeError,
      url: (value: unknown) => (typeof value === 'string' ? scrubUrl(value) : value),
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubUrl(arg) : arg));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  return scrubDeep(serialized, 0);
}

function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubUrl(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY_SET.has(key) ? REDACTED : scrubDeep(v, depth + 1);
  }
  return out;
}

const SECRET_KEY_SET = new Set<string>([...SECRET_FIELDS, ...SECRET_HEADERS]);

const LEVEL_METHODS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const noop = () => undefined;

/**
 * `parent.child(bindings)`, made only when something is logged at an enabled level. A pino
 * child runs redaction over its bindings when it is made, which is a measurable share of a
 * healthy job's cost when one is made per job and nothing is ever logged with it.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(parent, {
    get(target, property) {
      if (
        typeof property === 'string' &&
        LEVEL_METHODS.has(property) &&
        !target.isLevelEnabled(property)
      ) {
        return noop;
      }
      child ??= target.child(bindings);
      const value = Reflect.get(child, property, child);
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}

export type { Logger };
