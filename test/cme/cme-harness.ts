import { randomBytes } from 'node:crypto';
import { type CmeConfig, type Logger, Secret } from '@atelier/shared';
import { CmeSimulator, type CmeSimulatorOptions } from '@atelier/simulator';
import type { RedisClient } from '@atelier/store';
import { CmeOperationRunner, type CmeOperationRunnerOptions } from '@atelier/worker';
import type { RedisTestContext } from '../support/redis-context.ts';

export const PLATFORM = '1000000009';
export const SECRET_ID = 'AKIDAtelierTest0123456789';

/** A CME simulator, the config pointing at it, and runners each on its own Redis connection. */
export interface CmeHarness {
  simulator: CmeSimulator;
  secretKey: string;
  prefix: string;
  config: CmeConfig;
  /** A runner on a fresh Redis connection (a stand-in for another worker process). */
  runner(options?: Partial<Omit<CmeOperationRunnerOptions, 'prefix'>>): CmeOperationRunner;
  connection(): RedisClient;
}

export interface CmeHarnessOptions {
  simulator?: Partial<CmeSimulatorOptions>;
  config?: Partial<CmeConfig>;
  logger?: Logger;
}

export async function startCmeHarness(
  ctx: RedisTestContext,
  options: CmeHarnessOptions = {},
): Promise<CmeHarness> {
  const secretKey = `SecretKey${randomBytes(12).toString('hex')}`;
  const simulator = await CmeSimulator.start({
    secretId: SECRET_ID,
    secretKey,
    platform: PLATFORM,
    ...options.simulator,
  });
  ctx.onCleanup(() => simulator.close());
  const prefix = ctx.prefix('cme');
  const config: CmeConfig = {
    loginUrl: simulator.loginUrl,
    apiBaseUrl: simulator.apiBaseUrl,
    platform: PLATFORM,
    secretId: new Secret(SECRET_ID),
    secretKey: new Secret(secretKey),
    requestTimeoutMs: 5000,
    concurrency: 20,
    rateLimitPerSec: 100_000,
    ticketMaxAgeMs: 0,
    signatureValiditySec: 300,
    ...options.config,
  };
  return {
    simulator,
    secretKey,
    prefix,
    config,
    connection: () => ctx.connection(),
    runner(overrides = {}) {
      const runner = new CmeOperationRunner({
        redis: ctx.connection(),
        config,
        ...(options.logger && { logger: options.logger }),
        ...overrides,
        prefix,
      });
      ctx.onCleanup(async () => runner.close());
      return runner;
    },
  };
}

/** `count` materials owned by `userId`, created in the simulator; returns their ids. */
export function seedMaterials(simulator: CmeSimulator, userId: string, count: number): string[] {
  const materials = Array.from({ length: count }, (_, i) => ({
    owner: { Type: 'PERSON' as const, Id: userId },
    name: `m${i}`,
  }));
  return simulator.seed({ materials }).materialIds;
}
