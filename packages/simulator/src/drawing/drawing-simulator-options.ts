import type { DrawingAuth } from './drawing-auth.ts';
import { type DrawingFaultPatch, parseDrawingFaultPatch } from './drawing-faults.ts';
import {
  assertDurationDistribution,
  DEFAULT_DURATION,
  type DurationDistribution,
} from './duration-distribution.ts';

export interface DrawingSimulatorOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Default `/drawing/submit`. */
  submitPath?: string;
  /** Default `/drawing/query`. */
  queryPath?: string;
  /** Default `{ mode: 'none' }`. */
  auth?: DrawingAuth;
  /** Time to draw one image (default lognormal, median 9 s, sigma 0.35, cap 120 s). */
  duration?: DurationDistribution;
  /** Added per image beyond the first (default 1500). */
  perExtraImageMs?: number;
  /** Tasks drawn at once upstream; later ones queue (default `Infinity`: none queue). */
  upstreamConcurrency?: number;
  /** Seeds durations, ids and random faults (default 20240101). */
  seed?: number;
  /** Digits per taskId (default 19, beyond 2^53). */
  taskIdDigits?: number;
  /** Write `data.taskId` as a bare JSON number instead of a string (default false). */
  numericTaskIds?: boolean;
  /** Add `data.waiting` (expected seconds until ready) to pending answers (default true). */
  includeWaiting?: boolean;
  /** Add a top-level `charge` field to answers (default false). */
  includeCharge?: boolean;
  /** Longest accepted `text`, in characters (default 100). */
  textMaxLength?: number;
  /** Accepted `style` values (default: the spec's seventeen). */
  styles?: readonly string[];
  /** Accepted `resolution` values (default `1024*1024`, `1024*1536`, `1536*1024`). */
  resolutions?: readonly string[];
  /** Largest `num` (default 6). */
  numMax?: number;
  /** Largest accepted `X-Sdk-Date` skew in `apig` mode (default 15 minutes). */
  maxClockSkewMs?: number;
  /** Zone of `createTime`, minutes east of UTC (default 480, China). */
  timeZoneOffsetMinutes?: number;
  /** Base of image URLs (default: `http://` + the request's Host header). */
  imageBaseUrl?: string;
  /** Largest accepted request body (default 64 KiB; larger → HTTP 413). */
  maxBodyBytes?: number;
  /** Faults active from the start. */
  faults?: DrawingFaultPatch;
  /** Epoch-ms clock for task timing and `X-Sdk-Date` checks (default `Date.now`). */
  clock?: () => number;
}

export type ResolvedDrawingSimulatorOptions = Required<
  Omit<DrawingSimulatorOptions, 'imageBaseUrl'>
> &
  Pick<DrawingSimulatorOptions, 'imageBaseUrl'>;

/**
 * A value list the way the spec's request table writes it (specs/drawing-api.md), so the two
 * compare at a glance: the simulator keeps its own copy of the provider's rules.
 */
const specList = (row: string): readonly string[] => Object.freeze(row.split(', '));

const STYLES = specList(
  '探索无限, 古风, 二次元, 写实风格, 浮世绘, low poly, 未来主义, 像素风格, 概念艺术, 赛博朋克, 洛丽塔风格, 巴洛克风格, 超现实主义, 水彩画, 蒸汽波艺术, 油画, 卡通画',
);
const RESOLUTIONS = specList('1024*1024, 1024*1536, 1536*1024');

function requireInteger(value: number, option: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`DrawingSimulatorOptions.${option} must be an integer in ${min}..${max}`);
  }
}

function requirePath(value: string, option: string) {
  if (!value.startsWith('/') || value.includes('?')) {
    throw new RangeError(`DrawingSimulatorOptions.${option} must be a path starting with "/"`);
  }
}

function assertAuth(auth: DrawingAuth): void {
  const bad = (rule: string) => new RangeError(`DrawingSimulatorOptions.auth${rule}`);
  switch (auth.mode) {
    case 'none':
      return;
    case 'apig':
      if (
        typeof auth.apps !== 'object' ||
        auth.apps === null ||
        Object.keys(auth.apps).length === 0
      ) {
        throw bad('.apps must map at least one AppKey to its AppSecret');
      }
      return;
    case 'huawei-appcode':
    case 'aliyun-appcode':
      if (!Array.isArray(auth.appCodes) || auth.appCodes.length === 0) {
        throw bad('.appCodes must list at least one AppCode');
      }
      return;
    default:
      throw bad('.mode must be none, apig, huawei-appcode or aliyun-appcode');
  }
}

/** Defaults merged in one place, then validated with messages naming the option. */
export function resolveDrawingSimulatorOptions(
  options: DrawingSimulatorOptions = {},
): ResolvedDrawingSimulatorOptions {
  const resolved: ResolvedDrawingSimulatorOptions = {
    host: '127.0.0.1',
    port: 0,
    submitPath: '/drawing/submit',
    queryPath: '/drawing/query',
    auth: { mode: 'none' },
    duration: DEFAULT_DURATION,
    perExtraImageMs: 1_500,
    upstreamConcurrency: Number.POSITIVE_INFINITY,
    seed: 20240101,
    taskIdDigits: 19,
    numericTaskIds: false,
    includeWaiting: true,
    includeCharge: false,
    textMaxLength: 100,
    styles: STYLES,
    resolutions: RESOLUTIONS,
    numMax: 6,
    maxClockSkewMs: 15 * 60_000,
    timeZoneOffsetMinutes: 480,
    maxBodyBytes: 64 * 1024,
    faults: {},
    clock: Date.now,
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  };
  requireInteger(resolved.port, 'port', 0, 65_535);
  requirePath(resolved.submitPath, 'submitPath');
  requirePath(resolved.queryPath, 'queryPath');
  if (resolved.submitPath === resolved.queryPath) {
    throw new RangeError('DrawingSimulatorOptions.queryPath must differ from submitPath');
  }
  assertDurationDistribution(resolved.duration, 'DrawingSimulatorOptions.duration');
  if (!(resolved.perExtraImageMs >= 0)) {
    throw new RangeError('DrawingSimulatorOptions.perExtraImageMs must be >= 0');
  }
  if (resolved.upstreamConcurrency !== Number.POSITIVE_INFINITY) {
    requireInteger(resolved.upstreamConcurrency, 'upstreamConcurrency', 1, 10_000);
  }
  requireInteger(resolved.seed, 'seed', 0, 0xffffffff);
  requireInteger(resolved.taskIdDigits, 'taskIdDigits', 6, 40);
  requireInteger(resolved.textMaxLength, 'textMaxLength', 1);
  requireInteger(resolved.numMax, 'numMax', 1);
  requireInteger(resolved.maxBodyBytes, 'maxBodyBytes', 1);
  if (!(resolved.maxClockSkewMs >= 0)) {
    throw new RangeError('DrawingSimulatorOptions.maxClockSkewMs must be >= 0');
  }
  assertAuth(resolved.auth);
  resolved.faults = parseDrawingFaultPatch(resolved.faults);
  return resolved;
}
