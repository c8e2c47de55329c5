import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type AtelierConfig,
  createLogger,
  type Env,
  EnvReader,
  type Logger,
  loadConfig,
  Secret,
} from '@atelier/shared';
import { createProducer, type Producer } from '../lib/producer.ts';
import { producerOptionsFromConfig } from '../lib/producer-options.ts';

/** What the embedded stack (`pnpm start`) writes so the CLI finds it. */
export interface StackFile {
  redisUrl: string;
  prefix?: string;
  apiUrl?: string;
  apiKey?: string;
  /** The stack's callback signing secret (its workers send callbacks). */
  callbackSecret?: string;
  /** The stack's `ATELIER_CALLBACK_ALLOW_PRIVATE` (true unless overridden). */
  callbackAllowPrivate?: boolean;
  /** The stack's `ATELIER_IMAGE_STORE` (`fs:<repo>/.data/images` unless overridden). */
  imageStore?: string;
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
 * variables), or, when it is unset, the `.data/stack.json` the embedded stack writes — whose
 * prefix, callback secret, private-URL setting and image store then apply unless the
 * environment sets them.
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
  const reader = new EnvReader(env);
  const withStack: AtelierConfig = {
    ...config,
    queuePrefix: stack.prefix ?? config.queuePrefix,
    callbacks: stackCallbacks(config, reader, stack),
    images:
      stack.imageStore !== undefined && !reader.has('ATELIER_IMAGE_STORE')
        ? loadConfig({ ...env, ATELIER_IMAGE_STORE: stack.imageStore }, 'cli').images
        : config.images,
  };
  const options = producerOptionsFromConfig(withStack, { logger, redisUrl: stack.redisUrl });
  return { producer: createProducer(options), config: withStack, logger, source: 'stack file' };
}

/** The stack's callback settings where the environment leaves them unset (env wins). */
function stackCallbacks(
  config: AtelierConfig,
  env: EnvReader,
  stack: StackFile,
): AtelierConfig['callbacks'] {
  const { secret, allowPrivateUrls } = config.callbacks;
  const stackSecret = stack.callbackSecret ? new Secret(stack.callbackSecret) : undefined;
  return {
    ...config.callbacks,
    secret: secret ?? stackSecret,
    allowPrivateUrls: env.has('ATELIER_CALLBACK_ALLOW_PRIVATE')
      ? allowPrivateUrls
      : (stack.callbackAllowPrivate ?? allowPrivateUrls),
  };
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
  const { callbackSecret, callbackAllowPrivate, imageStore } = parsed;
  return {
    ...parsed,
    redisUrl: parsed.redisUrl,
    callbackSecret: typeof callbackSecret === 'string' ? callbackSecret : undefined,
    callbackAllowPrivate:
      typeof callbackAllowPrivate === 'boolean' ? callbackAllowPrivate : undefined,
    imageStore: typeof imageStore === 'string' && imageStore !== '' ? imageStore : undefined,
  };
}
