import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/redis-server.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { ChaosProcess, type ExitTiming } from './chaos-process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SIMULATOR = `${root}packages/simulator/src/bin/simulator.ts`;
const WORKER = `${root}packages/worker/src/bin/worker.ts`;
const API = `${root}packages/producer/src/bin/api.ts`;

/** Provider request timeout of the workers (the `slow` storm answers after it). */
export const REQUEST_TIMEOUT_MS = 3_000;
/** `ATELIER_SHUTDOWN_GRACE_MS`: every process must be gone this long + 5 s after SIGTERM. */
export const SHUTDOWN_GRACE_MS = 5_000;
export const API_KEY = 'chaos-api-key';
export const QUEUE_PREFIX = 'chaos';

const CREDENTIALS = {
  DRAWING_APP_KEY: 'chaos-app-key',
  DRAWING_APP_SECRET: 'chaos-app-secret',
  CME_SECRET_ID: 'AKIDchaos0000000000000000',
  CME_SECRET_KEY: 'chaos-cme-secret-key',
  CME_PLATFORM: 'chaos',
};

/** What the harness's shell environment must not leak into the processes under test. */
const OWN_VARIABLES =
  /^(ATELIER_|DRAWING_|CME_|SIMULATOR_|REDIS_URL$|PORT$|HOST$|LOG_LEVEL$|WORKER_METRICS_PORT$)/;

export interface ChaosStackOptions {
  runDir: string;
  callbackSecret: string;
  /** `SIMULATOR_DRAWING_DURATION_MS`. */
  drawingDurationMs: number;
}

interface SimulatorInfo {
  drawing: { baseUrl: string; submitPath: string; queryPath: string };
  cme: { loginUrl: string; apiBaseUrl: string; platform: string };
}

/**
 * The real processes, each in its own OS process: `redis-server` (AOF, `appendfsync always`)
 * on a fixed port so it can be killed and restarted on its data, the simulator, two workers
 * that reach Redis through their own `TcpProxy` (and keep their own `ATELIER_JOURNAL_DIR`
 * across restarts), and the API (straight to Redis).
 */
export class ChaosStack {
  readonly redis: ChaosProcess;
  readonly simulator: ChaosProcess;
  readonly proxies: TcpProxy[];
  readonly workers: ChaosProcess[];
  readonly api: ChaosProcess;
  readonly redisUrl: string;
  readonly apiUrl: string;
  readonly simulatorInfo: SimulatorInfo;

  private constructor(parts: {
    redis: ChaosProcess;
    simulator: ChaosProcess;
    proxies: TcpProxy[];
    workers: ChaosProcess[];
    api: ChaosProcess;
    redisUrl: string;
    apiUrl: string;
    simulatorInfo: SimulatorInfo;
  }) {
    this.redis = parts.redis;
    this.simulator = parts.simulator;
    this.proxies = parts.proxies;
    this.workers = parts.workers;
    this.api = parts.api;
    this.redisUrl = parts.redisUrl;
    this.apiUrl = parts.apiUrl;
    this.simulatorInfo = parts.simulatorInfo;
  }

  static async start(options: ChaosStackOptions): Promise<ChaosStack> {
    const { runDir } = options;
    const log = (name: string) => join(runDir, `${name}.log`);
    const base: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !OWN_VARIABLES.test(name)),
    );

    const redisPort = await freePort();
    mkdirSync(join(runDir, 'redis'), { recursive: true });
    const redis = new ChaosProcess(
      'redis',
      'redis-server',
      [
        ...['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', join(runDir, 'redis')],
        ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
        ...['--maxmemory-policy', 'noeviction', '--protected-mode', 'no'],
      ],
      base,
      log('redis'),
    );
    await redis.start(isRedisReady);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    const simulator = new ChaosProcess(
      'simulator',
      process.execPath,
      [SIMULATOR],
      {
        ...base,
        ...CREDENTIALS,
        SIMULATOR_DRAWING_PORT: '0',
        SIMULATOR_CME_PORT: '0',
        SIMULATOR_DRAWING_AUTH_MODE: 'apig',
        SIMULATOR_DRAWING_DURATION_MS: String(options.drawingDurationMs),
      },
      log('simulator'),
    );
    const simulatorInfo = JSON.parse(
      await simulator.start((line) => line.startsWith('{') && line.includes('"simulator"')),
    ) as SimulatorInfo;

    const apiPort = await freePort();
    const common: NodeJS.ProcessEnv = {
      ...base,
      ...CREDENTIALS,
      ATELIER_QUEUE_PREFIX: QUEUE_PREFIX,
      ATELIER_SIMULATOR: 'drawing,cme',
      ATELIER_API_KEYS: API_KEY,
      ATELIER_RATE_LIMIT_PER_MIN: '1000000',
      ATELIER_CALLBACK_SECRET: options.callbackSecret,
      ATELIER_CALLBACK_ALLOW_PRIVATE: 'true',
      ATELIER_CALLBACK_TIMEOUT_MS: '3000',
      ATELIER_SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      ATELIER_RECONCILE_INTERVAL_MS: '5000',
      ATELIER_RETRY_BASE_MS: '200',
      ATELIER_RETRY_MAX_MS: '3000',
      DRAWING_BASE_URL: simulatorInfo.drawing.baseUrl,
      DRAWING_SUBMIT_PATH: simulatorInfo.drawing.submitPath,
      DRAWING_QUERY_PATH: simulatorInfo.drawing.queryPath,
      DRAWING_AUTH_MODE: 'apig',
      DRAWING_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      DRAWING_POLL_FIRST_MS: '3000',
      DRAWING_POLL_INTERVAL_MS: '2000',
      DRAWING_POLL_MAX_INTERVAL_MS: '5000',
      DRAWING_MAINTENANCE_BACKOFF_MS: '3000',
      DRAWING_THROTTLE_MS: '500',
      CME_LOGIN_URL: simulatorInfo.cme.loginUrl,
      CME_API_BASE_URL: simulatorInfo.cme.apiBaseUrl,
      CME_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      CME_RATE_LIMIT_PER_SEC: '200',
      LOG_LEVEL: 'info',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
    };

    const proxies: TcpProxy[] = [];
    const workers: ChaosProcess[] = [];
    for (const n of [1, 2]) {
      const proxy = await TcpProxy.start({ port: redisPort });
      proxies.push(proxy);
      const journal = join(runDir, `journal-${n}`);
      mkdirSync(journal, { recursive: true });
      workers.push(
        new ChaosProcess(
          `worker-${n}`,
          process.execPath,
          [WORKER],
          { ...common, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, ATELIER_JOURNAL_DIR: journal },
          log(`worker-${n}`),
        ),
      );
    }
    await Promise.all(workers.map((w) => w.start(isWorkerReady)));
    const api = new ChaosProcess(
      'api',
      process.execPath,
      [API],
      { ...common, REDIS_URL: redisUrl },
      log('api'),
    );
    await api.start(isApiReady);
    return new ChaosStack({
      redis,
      simulator,
      proxies,
      workers,
      api,
      redisUrl,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      simulatorInfo,
    });
  }

  /** The drawing simulator's admin base (`…/__admin/`). */
  get drawingAdmin(): string {
    return `${this.simulatorInfo.drawing.baseUrl}/__admin/`;
  }

  get cmeAdmin(): string {
    return new URL('/__admin/', this.simulatorInfo.cme.apiBaseUrl).href;
  }

  /** Starts Redis again on its port and its AOF. */
  async startRedis(): Promise<void> {
    await this.redis.start(isRedisReady);
  }

  async startWorker(index: number): Promise<void> {
    await this.workers[index]?.start(isWorkerReady, 60_000);
  }

  async startApi(): Promise<void> {
    await this.api.start(isApiReady);
  }

  /**
   * SIGTERM to every Atelier process at once; each exit is timed (SIGKILL after `giveUpMs`).
   */
  async terminateAtelier(giveUpMs: number): Promise<ExitTiming[]> {
    return Promise.all([this.api, ...this.workers].map((p) => p.stop('SIGTERM', giveUpMs)));
  }

  /** Stops whatever still runs (simulator and Redis last), closes proxies and logs. */
  async close(giveUpMs: number): Promise<ExitTiming[]> {
    const atelier = await this.terminateAtelier(giveUpMs);
    const simulator = await this.simulator.stop('SIGTERM', giveUpMs);
    await Promise.all(this.proxies.map((p) => p.close()));
    await this.redis.stop('SIGTERM', giveUpMs);
    for (const p of [this.redis, this.simulator, this.api, ...this.workers]) await p.closeLog();
    return [...atelier, simulator];
  }
}

const isRedisReady = (line: string) => line.includes('Ready to accept connections');
const isWorkerReady = (line: string) => line.includes('"msg":"worker started"');
const isApiReady = (line: string) => line.includes('Atelier API listening');
