import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type AtelierConfig,
  createLogger,
  type Env,
  type Logger,
  loadConfig,
} from '@atelier/shared';
import { createProducer, type Producer } from '../producer.ts';
import { producerOptionsFromConfig } from '../producer-options.ts';

/** What the embedded stack (`pnpm start`) writes so the CLI finds it. */
export interface StackFile {
  redisUrl: string;
  prefix?: string;
  apiUrl?: string;
  apiKey?: string;
}

/** `.data/stack.json` at the repository root. */
export const STACK_FILE = fileURLToPath(new URL('../../../../.data/stack.json', import.meta.url));

export interface CliEnvironment {
  producer: Producer;
  config: AtelierConfig;
  logger: Logger;
  /** Where the Redis URL came from (for messages). */
  source: 'REDIS_URL' | 'stack file';
}

/**
 * The CLI talks to Redis directly through the library: `REDIS_URL` (and the usual config
 * variables), or, when it is unset, the `.data/stack.json` the embedded stack writes.
 */
export async function openCliEnvironment(
  env: Env,
  stackFile = STACK_FILE,
): Promise<CliEnvironment> {
  const config = loadConfig(env, 'cli');
  const logger = createLogger({ name: 'atelier-cli', level: 'warn', destination: process.stderr });
  if (config.redisUrl !== undefined) {
    return {
      producer: createProducer(producerOptionsFromConfig(config, { logger })),
      config,
      logger,
      source: 'REDIS_URL',
    };
  }
  const stack = await readStackFile(stackFile);
  const withStack: AtelierConfig = { ...config, queuePrefix: stack.prefix ?? config.queuePrefix };
  const options = producerOptionsFromConfig(withStack, { logger, redisUrl: stack.redisUrl });
  return { producer: createProducer(options), config: withStack, logger, source: 'stack file' };
}

async function readStackFile(path: string): Promise<StackFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(
      `no Redis to talk to: set REDIS_URL, or start the stack with \`pnpm start\` (it writes ${path})`,
    );
  }
  let parsed: Partial<StackFile>;
  try {
    parsed = JSON.parse(text) as Partial<StackFile>;
  } catch {
    throw new Error(`${path} is not valid JSON; restart the stack or set REDIS_URL`);
  }
  if (typeof parsed.redisUrl !== 'string' || parsed.redisUrl === '') {
    throw new Error(`${path} has no redisUrl; restart the stack or set REDIS_URL`);
  }
  return { ...parsed, redisUrl: parsed.redisUrl };
}
