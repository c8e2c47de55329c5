import type { CmeSimulatorOptions } from '../cme/cme-simulator-options.ts';
import type { DrawingAuth } from '../drawing/drawing-auth.ts';
import type { DrawingSimulatorOptions } from '../drawing/drawing-simulator-options.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Credentials the simulator accepts when none are configured (the embedded stack uses them). */
export const SIMULATOR_DEFAULTS = {
  drawingAppKey: 'simulator-app-key',
  drawingAppSecret: 'simulator-app-secret',
  cmeSecretId: 'AKIDsimulator000000000000',
  cmeSecretKey: 'simulator-cme-secret-key',
  cmePlatform: 'simulator',
} as const;

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}: must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

function drawingAuth(env: Env): DrawingAuth {
  const mode = env.SIMULATOR_DRAWING_AUTH_MODE?.trim() || 'none';
  const key = env.DRAWING_APP_KEY || SIMULATOR_DEFAULTS.drawingAppKey;
  switch (mode) {
    case 'none':
      return { mode: 'none' };
    case 'apig':
      return {
        mode: 'apig',
        apps: { [key]: env.DRAWING_APP_SECRET || SIMULATOR_DEFAULTS.drawingAppSecret },
      };
    case 'huawei-appcode':
    case 'aliyun-appcode':
      return { mode, appCodes: [env.DRAWING_APP_CODE || 'simulator-app-code'] };
    default:
      throw new Error(
        `SIMULATOR_DRAWING_AUTH_MODE: must be none | apig | huawei-appcode | aliyun-appcode, got "${mode}"`,
      );
  }
}

/** Reads the simulator's own environment (it shares no code with Atelier). */
export function simulatorOptionsFromEnv(env: Env): {
  drawing: DrawingSimulatorOptions;
  cme: CmeSimulatorOptions;
} {
  const host = env.SIMULATOR_HOST?.trim() || '127.0.0.1';
  const durationMs = env.SIMULATOR_DRAWING_DURATION_MS?.trim();
  return {
    drawing: {
      host,
      port: int(env, 'SIMULATOR_DRAWING_PORT', 4010),
      auth: drawingAuth(env),
      ...(durationMs
        ? { duration: { kind: 'fixed' as const, ms: int(env, 'SIMULATOR_DRAWING_DURATION_MS', 0) } }
        : {}),
      ...(env.SIMULATOR_DRAWING_SUBMIT_PATH
        ? { submitPath: env.SIMULATOR_DRAWING_SUBMIT_PATH }
        : {}),
      ...(env.SIMULATOR_DRAWING_QUERY_PATH ? { queryPath: env.SIMULATOR_DRAWING_QUERY_PATH } : {}),
    },
    cme: {
      host,
      port: int(env, 'SIMULATOR_CME_PORT', 4020),
      secretId: env.CME_SECRET_ID || SIMULATOR_DEFAULTS.cmeSecretId,
      secretKey: env.CME_SECRET_KEY || SIMULATOR_DEFAULTS.cmeSecretKey,
      platform: env.CME_PLATFORM || SIMULATOR_DEFAULTS.cmePlatform,
    },
  };
}
