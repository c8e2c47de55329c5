/**
 * `pnpm start`: the whole Atelier stack on embedded defaults, from the repository root.
 * - REDIS_URL unset → a local redis-server (data in .data/redis, AOF on, noeviction, compact
 *   job hashes)
 * - provider credentials unset → the simulator (said plainly in the logs and the dashboard)
 * - one worker and the API with the dashboard; prints the URLs, a login and a curl line
 * - finished drawings' images archived in .data/images (ATELIER_IMAGE_STORE unless set)
 * - the worker's submit journal in .data/journal (ATELIER_JOURNAL_DIR unless set)
 * Ctrl-C (or SIGTERM) stops everything cleanly, Redis last.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { StackFile } from '@atelier/producer/cli';
import { type AtelierConfig, ConfigError, loadConfig } from '@atelier/shared';
import { ChildProcessGroup, waitForLine } from './stack/child-process-group.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = `${root}.data`;
const stateFile = `${dataDir}/stack.json`;
const node = process.execPath;
const env: NodeJS.ProcessEnv = { ...process.env };
const group = new ChildProcessGroup();
const say = (line = '') => process.stdout.write(`${line}\n`);

interface StackState {
  apiKey: string;
  adminPassword: string;
  callbackSecret: string;
}

function loadState(): StackState {
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(stateFile)) {
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as Partial<StackState>;
    if (saved.apiKey && saved.adminPassword && saved.callbackSecret) return saved as StackState;
  }
  const token = () => randomBytes(18).toString('base64url');
  return { apiKey: `atl_${token()}`, adminPassword: token(), callbackSecret: token() };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function untilReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const state = loadState();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping Atelier…');
    await group.stopAll(Number(env.ATELIER_SHUTDOWN_GRACE_MS ?? 30_000) + 5000);
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  group.onUnexpectedExit((name, code) => {
    process.stderr.write(
      `atelier: ${name} exited unexpectedly (code ${code}); stopping the stack\n`,
    );
    void stop(1);
  });

  // --- Redis ------------------------------------------------------------------------------
  if (!env.REDIS_URL) {
    const port = await freePort();
    mkdirSync(`${dataDir}/redis`, { recursive: true });
    const redis = group.start(
      'redis',
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        `${dataDir}/redis`,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        // Job hashes stay listpacks (README, Sizing); the old name works on Redis 6.2 and 7.
        '--hash-max-ziplist-value',
        '4096',
        '--save',
        '',
      ],
      env,
    );
    redis.child.once('error', () => {
      process.stderr.write(
        'atelier: redis-server not found — run `. scripts/bootstrap.sh` or set REDIS_URL\n',
      );
      process.exit(1);
    });
    await waitForLine(redis.child, (line) => line.includes('Ready to accept connections'));
    env.REDIS_URL = `redis://127.0.0.1:${port}`;
  }

  // --- Providers: the real ones when configured, else the simulator -------------------------
  const drawingConfigured = Boolean(env.DRAWING_BASE_URL);
  const cmeConfigured = Boolean(env.CME_SECRET_KEY);
  const simulated: string[] = [];
  if (!drawingConfigured || !cmeConfigured) {
    const simulator = group.start(
      'simulator',
      node,
      [`${root}packages/simulator/src/bin/simulator.ts`],
      {
        ...env,
        SIMULATOR_DRAWING_PORT: '0',
        SIMULATOR_CME_PORT: '0',
        SIMULATOR_DRAWING_AUTH_MODE: 'apig',
        DRAWING_APP_KEY: 'simulator-app-key',
        DRAWING_APP_SECRET: 'simulator-app-secret',
        CME_SECRET_ID: 'AKIDsimulator000000000000',
        CME_SECRET_KEY: 'simulator-cme-secret-key',
        CME_PLATFORM: 'simulator',
      },
    );
    const info = JSON.parse(await waitForLine(simulator.child, (line) => line.startsWith('{'))) as {
      drawing: { baseUrl: string; submitPath: string; queryPath: string };
      cme: { loginUrl: string; apiBaseUrl: string; platform: string };
    };
    if (!drawingConfigured) {
      simulated.push('drawing');
      Object.assign(env, {
        DRAWING_BASE_URL: info.drawing.baseUrl,
        DRAWING_SUBMIT_PATH: info.drawing.submitPath,
        DRAWING_QUERY_PATH: info.drawing.queryPath,
        DRAWING_AUTH_MODE: 'apig',
        DRAWING_APP_KEY: 'simulator-app-key',
        DRAWING_APP_SECRET: 'simulator-app-secret',
      });
    }
    if (!cmeConfigured) {
      simulated.push('cme');
      Object.assign(env, {
        CME_LOGIN_URL: info.cme.loginUrl,
        CME_API_BASE_URL: info.cme.apiBaseUrl,
        CME_PLATFORM: info.cme.platform,
        CME_SECRET_ID: 'AKIDsimulator000000000000',
        CME_SECRET_KEY: 'simulator-cme-secret-key',
      });
    }
  }

  // --- Defaults of the embedded stack ----------------------------------------------------
  env.ATELIER_API_KEYS ||= state.apiKey;
  if (!env.ATELIER_ADMIN_USER && !env.ATELIER_ADMIN_PASSWORD) {
    env.ATELIER_ADMIN_USER = 'admin';
    env.ATELIER_ADMIN_PASSWORD = state.adminPassword;
  }
  env.ATELIER_CALLBACK_SECRET ||= state.callbackSecret;
  env.ATELIER_CALLBACK_ALLOW_PRIVATE ||= 'true';
  // Finished drawings' images are kept in .data/images; the simulator serves them on loopback.
  env.ATELIER_IMAGE_STORE ||= `fs:${dataDir}/images`;
  env.ATELIER_IMAGE_ALLOW_PRIVATE ||= 'true';
  // The worker's submit journal: a taskId answered just before a crash reaches Redis on restart.
  env.ATELIER_JOURNAL_DIR ||= `${dataDir}/journal`;
  env.ATELIER_SIMULATOR = simulated.length > 0 ? simulated.join(',') : '';
  env.PORT ||= '3000';

  // Validate once here, so a wrong value stops everything with the variable's name.
  let config: AtelierConfig;
  try {
    loadConfig(env, 'worker');
    config = loadConfig(env, 'api');
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`atelier: configuration error: ${error.message}\n`);
      await stop(78);
      return;
    }
    throw error;
  }
  if (simulated.length > 0) {
    say(
      `*** SIMULATOR: ${simulated.join(' and ')} provider(s) are simulated — no real API is called. ***`,
    );
  }

  // A small young generation keeps RSS bounded under load (see bench/RESULTS.md); the same
  // flag as the packages' start scripts and the image's NODE_OPTIONS.
  const flags = ['--max-semi-space-size=16'];
  const worker = group.start(
    'worker',
    node,
    [...flags, `${root}packages/worker/src/bin/worker.ts`],
    env,
  );
  await waitForLine(worker.child, (line) => line.includes('worker started'));
  group.start('api', node, [...flags, `${root}packages/producer/src/bin/api.ts`], env);
  const apiUrl = `http://127.0.0.1:${env.PORT}`;
  await untilReady(`${apiUrl}/readyz`);

  const apiKey = (env.ATELIER_API_KEYS ?? '').split(',')[0]?.trim() ?? '';
  // The CLI reads this file (`StackFile` of `@atelier/producer/cli`).
  const stackFile: StackFile & StackState = {
    ...state,
    redisUrl: env.REDIS_URL,
    prefix: config.queuePrefix,
    apiUrl,
    apiKey,
    callbackAllowPrivate: config.callbacks.allowPrivateUrls,
    imageStore: env.ATELIER_IMAGE_STORE,
  };
  writeFileSync(stateFile, `${JSON.stringify(stackFile, null, 2)}\n`, { mode: 0o600 });

  const body = JSON.stringify({
    text: '一只猫在雨中',
    style: '水彩画',
    resolution: '1024*1024',
    num: 1,
  });
  say('');
  say('Atelier is running.');
  say(`  API        ${apiUrl}/v1   (OpenAPI: ${apiUrl}/openapi.json)`);
  say(
    `  Dashboard  ${apiUrl}/admin   login: ${env.ATELIER_ADMIN_USER} / ${env.ATELIER_ADMIN_USER === 'admin' && env.ATELIER_ADMIN_PASSWORD === state.adminPassword ? state.adminPassword : '(your ATELIER_ADMIN_PASSWORD)'}`,
  );
  say(`  Redis      ${env.REDIS_URL}`);
  say(
    `  Images     ${env.ATELIER_IMAGE_STORE}   (pnpm atelier batch download <id> --dir <folder>)`,
  );
  if (simulated.length > 0)
    say(
      `  SIMULATOR  ${simulated.join(', ')} (set DRAWING_* / CME_* credentials to use the real providers)`,
    );
  say('');
  say('Enqueue a drawing:');
  say(
    `  curl -s -X POST ${apiUrl}/v1/drawings -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -d '${body}'`,
  );
  say(
    'Then: curl -s -H "Authorization: Bearer <key>" ' +
      `${apiUrl}/v1/jobs/<id>   or   pnpm atelier job <id>`,
  );
  say('Ctrl-C stops everything.');
}

main().catch(async (error) => {
  process.stderr.write(`atelier: ${error instanceof Error ? error.message : String(error)}\n`);
  await group.stopAll(5000);
  process.exit(1);
});
