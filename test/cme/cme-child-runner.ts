/**
 * A separate worker process for the ticket-expiry test: builds its own runner on its own Redis
 * connection, waits for "go" on stdin, runs the operations, prints a JSON summary, exits.
 * Input (argv[2], JSON): { redisUrl, prefix, config, count, operation, expireAfterCalls? }.
 */
import { createInterface } from 'node:readline';
import { type CmeConfig, type CmeOperation, outcomeLabel, Secret } from '@atelier/shared';
import { createRedisConnection } from '@atelier/store';
import { CmeOperationRunner } from '@atelier/worker';

interface ChildInput {
  redisUrl: string;
  prefix: string;
  config: Omit<CmeConfig, 'secretId' | 'secretKey'> & { secretId: string; secretKey: string };
  count: number;
  operation: CmeOperation;
}

const input = JSON.parse(process.argv[2] ?? '{}') as ChildInput;
const redis = createRedisConnection({ url: input.redisUrl, role: 'worker' });
const runner = new CmeOperationRunner({
  redis,
  prefix: input.prefix,
  maxRateWaitMs: 10_000,
  config: {
    ...input.config,
    secretId: new Secret(input.config.secretId),
    secretKey: new Secret(input.config.secretKey),
  },
});

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line !== 'go') continue;
  const outcomes = await Promise.all(
    Array.from({ length: input.count }, () => runner.run(input.operation)),
  );
  const kinds: Record<string, number> = {};
  for (const o of outcomes) kinds[outcomeLabel(o)] = (kinds[outcomeLabel(o)] ?? 0) + 1;
  process.stdout.write(`${JSON.stringify({ kinds })}\n`);
  break;
}
lines.close();
runner.close();
redis.disconnect();
