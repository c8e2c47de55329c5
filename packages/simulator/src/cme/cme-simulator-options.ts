import type { CmeFaultSettingsPatch } from './cme-fault-settings.ts';
import type { CmeLoginShape, CmeSeedData } from './cme-types.ts';

export interface CmeSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, login signatures must carry this secretId. */
  secretId?: string;
  secretKey: string;
  platform: string;
  /** AppId reported by the login answer. Default 1200000001. */
  appId?: number;
  /** How long a minted ticket lives. Default 2 h. */
  ticketLifetimeMs?: number;
  /** Shape of the ticket-exchange answer. Default `new`. */
  loginShape?: CmeLoginShape;
  /** Path of the ticket exchange. Default `/` (the real one is `https://open.cme.qcloud.com?signature=…`). */
  loginPath?: string;
  /** How far in the future a signature's currentTimeStamp may be. Default 300 s. */
  maxClockSkewMs?: number;
  /** HTTP status of a failed ticket exchange. Default 200 (the real status is unconfirmed). */
  loginFailureHttpStatus?: number;
  /** HTTP status of `AuthFailure.*` API answers. Default 200; 401 is the other plausible one. */
  authFailureHttpStatus?: number;
  /** Larger request bodies get `RequestSizeLimitExceeded`. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Materials and classes present at start (and again after `reset()`). */
  seed?: CmeSeedData;
  /** Random faults at start (and again after `reset()`). */
  faults?: CmeFaultSettingsPatch;
  /** Seed of the PRNG behind random faults. Default 1. */
  seedRandom?: number;
  /** Milliseconds since the epoch; tests pass a fake clock to age tickets and signatures. */
  clock?: () => number;
}

export type ResolvedCmeSimulatorOptions = Required<
  Omit<CmeSimulatorOptions, 'secretId' | 'seed' | 'faults'>
> & {
  secretId: string | undefined;
  seed: CmeSeedData;
  faults: CmeFaultSettingsPatch;
};

export const CME_SIMULATOR_DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  appId: 1_200_000_001,
  ticketLifetimeMs: 2 * 60 * 60 * 1000,
  loginShape: 'new',
  loginPath: '/',
  maxClockSkewMs: 300_000,
  loginFailureHttpStatus: 200,
  authFailureHttpStatus: 200,
  maxBodyBytes: 1024 * 1024,
  seedRandom: 1,
} as const;

/** Options with defaults merged in; throws a RangeError naming the first bad option. */
export function resolveCmeSimulatorOptions(
  options: CmeSimulatorOptions,
): ResolvedCmeSimulatorOptions {
  const resolved: ResolvedCmeSimulatorOptions = {
    ...CME_SIMULATOR_DEFAULTS,
    clock: Date.now,
    ...withoutUndefined(options),
    secretKey: options.secretKey,
    platform: options.platform,
    secretId: options.secretId,
    seed: options.seed ?? {},
    faults: options.faults ?? {},
  };
  const fail = (name: string, rule: string): never => {
    throw new RangeError(`CmeSimulator option ${name} ${rule}`);
  };
  if (!resolved.secretKey) fail('secretKey', 'is required');
  if (!resolved.platform) fail('platform', 'is required');
  if (resolved.loginShape !== 'new' && resolved.loginShape !== 'old')
    fail('loginShape', "is 'new' or 'old'");
  const path = resolved.loginPath;
  if (!path.startsWith('/') || path.startsWith('/PaaS/') || path.startsWith('/__admin/')) {
    fail('loginPath', 'must start with / and not with /PaaS/ or /__admin/');
  }
  for (const name of ['ticketLifetimeMs', 'maxBodyBytes'] as const) {
    if (!(resolved[name] > 0)) fail(name, 'must be > 0');
  }
  for (const name of ['port', 'maxClockSkewMs', 'seedRandom'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 0)
      fail(name, 'must be an integer >= 0');
  }
  for (const name of ['loginFailureHttpStatus', 'authFailureHttpStatus'] as const) {
    const status = resolved[name];
    if (!Number.isInteger(status) || status < 200 || status > 599) fail(name, 'must be 200 to 599');
  }
  return resolved;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
