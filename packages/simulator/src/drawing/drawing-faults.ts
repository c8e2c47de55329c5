/** Business codes that can be injected at a rate. */
export type DrawingFaultCode = 201 | 202 | 400 | 500 | 501 | 999;
export const DRAWING_FAULT_CODES: readonly DrawingFaultCode[] = Object.freeze([
  201, 202, 400, 500, 501, 999,
]);

/** Probability (0..1) per request of answering each code instead of working normally. */
export type DrawingCodeRates = Partial<Record<DrawingFaultCode, number>>;

/** Which gateway answers throttling and quota faults. */
export type GatewayFlavour = 'huawei' | 'aliyun';

/**
 * Gateway quota faults: Huawei HTTP 405 `APIGW.0501` (used up) / `APIGW.0502` (frozen);
 * Aliyun HTTP 403 `Quota Exhausted` / `Quota Expired`.
 */
export type DrawingQuotaFault =
  | 'huawei-used-up'
  | 'huawei-frozen'
  | 'aliyun-exhausted'
  | 'aliyun-expired';

/**
 * What the image URLs serve instead of the drawn PNG: `oversized` a valid PNG padded to
 * `bytes` (sent chunked, without Content-Length, unless `declared`), `wrong-type` an HTML page
 * as `text/html`, `http` an empty answer with that status, `stall` the image's first bytes and
 * then nothing (the answer never ends until the client gives up).
 */
export type DrawingImageFault =
  | { kind: 'oversized'; bytes: number; declared?: boolean }
  | { kind: 'wrong-type' }
  | { kind: 'http'; status: number }
  | { kind: 'stall' };

/** Everything the simulator can be told to get wrong. Rates are probabilities in 0..1. */
export interface DrawingFaults {
  submitCodeRates: DrawingCodeRates;
  queryCodeRates: DrawingCodeRates;
  /** A submit whose text contains one of these answers code 202. */
  blockedWords: readonly string[];
  /** Submits + queries above `qps` in any sliding second are throttled (style: the gateway's). */
  throttle: { qps: number; style?: GatewayFlavour } | null;
  quota: DrawingQuotaFault | null;
  /** Every call answers `code` until the clock reaches `untilEpochMs`. */
  maintenance: { code: 500 | 501; untilEpochMs: number } | null;
  /** Added to every answer. */
  delayMs: number;
  /** With probability `slowRate`, `slowDelayMs` more. */
  slowRate: number;
  slowDelayMs: number;
  /** Socket destroyed without an answer (before the call is processed). */
  dropRate: number;
  /** The answer is processed, then cut short so it is not valid JSON. */
  malformedRate: number;
  /**
   * A proxy in front of the gateway answers an HTML error page with HTTP `htmlStatus`
   * (before the call is processed: no task is created).
   */
  htmlRate: number;
  htmlStatus: number;
  /** A finished task fails for good with status `badStatus` instead of 1. */
  badStatusRate: number;
  badStatus: number;
  /** What the image URLs serve instead of the drawn image (null: the image). */
  image: DrawingImageFault | null;
}

export type DrawingFaultPatch = Partial<DrawingFaults>;

export function noDrawingFaults(): DrawingFaults {
  return {
    submitCodeRates: {},
    queryCodeRates: {},
    blockedWords: [],
    throttle: null,
    quota: null,
    maintenance: null,
    delayMs: 0,
    slowRate: 0,
    slowDelayMs: 0,
    dropRate: 0,
    malformedRate: 0,
    htmlRate: 0,
    htmlStatus: 502,
    badStatusRate: 0,
    badStatus: 9,
    image: null,
  };
}

const QUOTAS: readonly string[] = [
  'huawei-used-up',
  'huawei-frozen',
  'aliyun-exhausted',
  'aliyun-expired',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rate(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`faults.${field} must be a number between 0 and 1`);
  }
  return value;
}

function durationMs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`faults.${field} must be a finite number of ms >= 0`);
  }
  return value;
}

function codeRates(value: unknown, field: string): DrawingCodeRates {
  if (!isRecord(value)) throw new TypeError(`faults.${field} must be an object of code → rate`);
  const rates: DrawingCodeRates = {};
  let total = 0;
  for (const [key, given] of Object.entries(value)) {
    const code = Number(key) as DrawingFaultCode;
    if (!DRAWING_FAULT_CODES.includes(code)) {
      throw new RangeError(
        `faults.${field}: ${key} is not one of ${DRAWING_FAULT_CODES.join(', ')}`,
      );
    }
    rates[code] = rate(given, `${field}.${key}`);
    total += rates[code];
  }
  if (total > 1) throw new RangeError(`faults.${field}: rates add up to more than 1`);
  return rates;
}

function throttle(value: unknown): DrawingFaults['throttle'] {
  if (value === null) return null;
  if (!isRecord(value) || typeof value.qps !== 'number' || !(value.qps >= 1)) {
    throw new RangeError('faults.throttle must be null or { qps: number >= 1, style? }');
  }
  if (value.style !== undefined && value.style !== 'huawei' && value.style !== 'aliyun') {
    throw new RangeError("faults.throttle.style must be 'huawei' or 'aliyun'");
  }
  return { qps: Math.floor(value.qps), ...(value.style ? { style: value.style } : {}) };
}

function maintenance(value: unknown): DrawingFaults['maintenance'] {
  if (value === null) return null;
  if (
    !isRecord(value) ||
    (value.code !== 500 && value.code !== 501) ||
    typeof value.untilEpochMs !== 'number'
  ) {
    throw new RangeError('faults.maintenance must be null or { code: 500 | 501, untilEpochMs }');
  }
  return { code: value.code, untilEpochMs: value.untilEpochMs };
}

const MAX_OVERSIZED_BYTES = 256 * 1024 * 1024;

function imageFault(value: unknown): DrawingImageFault | null {
  if (value === null) return null;
  if (!isRecord(value)) throw new TypeError('faults.image must be null or an object with a kind');
  switch (value.kind) {
    case 'oversized': {
      const { bytes, declared } = value;
      if (
        !Number.isInteger(bytes) ||
        (bytes as number) < 1 ||
        (bytes as number) > MAX_OVERSIZED_BYTES
      ) {
        throw new RangeError(`faults.image.bytes must be an integer in 1..${MAX_OVERSIZED_BYTES}`);
      }
      if (declared !== undefined && typeof declared !== 'boolean') {
        throw new TypeError('faults.image.declared must be a boolean');
      }
      return { kind: 'oversized', bytes: bytes as number, ...(declared ? { declared } : {}) };
    }
    case 'wrong-type':
      return { kind: 'wrong-type' };
    case 'stall':
      return { kind: 'stall' };
    case 'http':
      if (
        !Number.isInteger(value.status) ||
        (value.status as number) < 200 ||
        (value.status as number) > 599
      ) {
        throw new RangeError('faults.image.status must be an HTTP status in 200..599');
      }
      return { kind: 'http', status: value.status as number };
    default:
      throw new RangeError(
        "faults.image.kind must be 'oversized', 'wrong-type', 'http' or 'stall'",
      );
  }
}

/**
 * Validates a partial fault configuration (from code or from the admin endpoint's JSON),
 * throwing a message that names the field. Unknown fields are refused so typos surface.
 */
export function parseDrawingFaultPatch(value: unknown): DrawingFaultPatch {
  if (!isRecord(value)) throw new TypeError('faults must be an object');
  const patch: DrawingFaultPatch = {};
  for (const [field, given] of Object.entries(value)) {
    switch (field) {
      case 'submitCodeRates':
      case 'queryCodeRates':
        patch[field] = codeRates(given, field);
        break;
      case 'blockedWords':
        if (!Array.isArray(given) || !given.every((w) => typeof w === 'string' && w !== '')) {
          throw new TypeError('faults.blockedWords must be an array of non-empty strings');
        }
        patch.blockedWords = [...given];
        break;
      case 'throttle':
        patch.throttle = throttle(given);
        break;
      case 'quota':
        if (given !== null && !QUOTAS.includes(given as string)) {
          throw new RangeError(`faults.quota must be null or one of ${QUOTAS.join(', ')}`);
        }
        patch.quota = given as DrawingQuotaFault | null;
        break;
      case 'maintenance':
        patch.maintenance = maintenance(given);
        break;
      case 'delayMs':
      case 'slowDelayMs':
        patch[field] = durationMs(given, field);
        break;
      case 'slowRate':
      case 'dropRate':
      case 'malformedRate':
      case 'htmlRate':
      case 'badStatusRate':
        patch[field] = rate(given, field);
        break;
      case 'htmlStatus':
        if (!Number.isInteger(given) || (given as number) < 400 || (given as number) > 599) {
          throw new RangeError('faults.htmlStatus must be an integer from 400 to 599');
        }
        patch.htmlStatus = given as number;
        break;
      case 'badStatus':
        if (!Number.isInteger(given) || given === 0 || given === 1) {
          throw new RangeError('faults.badStatus must be an integer other than 0 and 1');
        }
        patch.badStatus = given as number;
        break;
      case 'image':
        patch.image = imageFault(given);
        break;
      default:
        throw new RangeError(`faults.${field} is not a fault setting`);
    }
  }
  return patch;
}
