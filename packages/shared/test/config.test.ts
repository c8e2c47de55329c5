import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

const drawingEnv = {
  DRAWING_BASE_URL: 'http://127.0.0.1:9999',
  DRAWING_SUBMIT_PATH: '/submit',
  DRAWING_QUERY_PATH: '/query',
  DRAWING_AUTH_MODE: 'apig',
  DRAWING_APP_KEY: 'app-key',
  DRAWING_APP_SECRET: 'app-secret-value-1234',
};
const cmeEnv = {
  CME_PLATFORM: '1000000009',
  CME_SECRET_ID: 'AKIDid',
  CME_SECRET_KEY: 'cme-secret-key-5678',
};

function configError(env: Record<string, string>, role: Parameters<typeof loadConfig>[1] = 'any') {
  try {
    loadConfig(env, role);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('has working defaults for everything optional', () => {
    const config = loadConfig({});
    expect(config.queuePrefix).toBe('atelier');
    expect(config.port).toBe(3000);
    expect(config.drawing.poll).toEqual({
      firstMs: 8000,
      intervalMs: 5000,
      maxIntervalMs: 30000,
      deadlineMs: 600000,
      costMs: 1500,
    });
    expect(config.cme.loginUrl).toBe('https://open.cme.qcloud.com');
    expect(config.cme.apiBaseUrl).toBe('https://web-paas-api.cme.qcloud.com');
    expect(config.cme.rateLimitPerSec).toBe(20);
    expect(config.worker.queues).toEqual(['drawing', 'cme', 'callbacks']);
  });

  it('reads the DESIGN.md variable names', () => {
    const config = loadConfig({
      ...drawingEnv,
      ...cmeEnv,
      REDIS_URL: 'redis://127.0.0.1:6390',
      ATELIER_QUEUE_PREFIX: '{atelier}',
      PORT: '8080',
      ATELIER_API_KEYS: 'k1-aaaaaaaaaaaaaaaa, k2-bbbbbbbbbbbbbbbb',
      ATELIER_ADMIN_USER: 'admin',
      ATELIER_ADMIN_PASSWORD: 'pw',
      DRAWING_POLL_FIRST_MS: '9000',
      DRAWING_POLL_INTERVAL_MS: '4000',
      DRAWING_POLL_MAX_INTERVAL_MS: '20000',
      DRAWING_POLL_DEADLINE_MS: '120000',
      DRAWING_POLL_COST_MS: '2500',
      DRAWING_MAINTENANCE_BACKOFF_MS: '60000',
      ATELIER_RETRY_BASE_MS: '250',
      ATELIER_CALLBACK_SECRET: 'cb-secret',
      WORKER_METRICS_PORT: '9464',
      CME_LOGIN_URL: 'http://127.0.0.1:1/login/',
      CME_API_BASE_URL: 'http://127.0.0.1:2',
    });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6390');
    expect(config.queuePrefix).toBe('{atelier}');
    expect(config.port).toBe(8080);
    expect(config.apiKeys.map((k) => k.token.reveal())).toEqual([
      'k1-aaaaaaaaaaaaaaaa',
      'k2-bbbbbbbbbbbbbbbb',
    ]);
    expect(config.drawing.poll).toEqual({
      firstMs: 9000,
      intervalMs: 4000,
      maxIntervalMs: 20000,
      deadlineMs: 120000,
      costMs: 2500,
    });
    expect(config.drawing.maintenanceBackoffMs).toBe(60000);
    expect(config.retry.baseMs).toBe(250);
    expect(config.worker.metricsPort).toBe(9464);
    expect(config.cme.loginUrl).toBe('http://127.0.0.1:1/login');
    expect(config.drawing.appSecret?.reveal()).toBe('app-secret-value-1234');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'must be an integer'],
    [{ PORT: '70000' }, 'PORT', 'at most 65535'],
    [
      { DRAWING_AUTH_MODE: 'oauth' },
      'DRAWING_AUTH_MODE',
      'one of apig | huawei-appcode | aliyun-appcode | none',
    ],
    [{ DRAWING_BASE_URL: 'not a url' }, 'DRAWING_BASE_URL', 'absolute URL'],
    [{ CME_LOGIN_URL: 'ftp://x' }, 'CME_LOGIN_URL', 'http(s)'],
    [{ DRAWING_SUBMIT_PATH: 'submit' }, 'DRAWING_SUBMIT_PATH', 'starting with "/"'],
    [{ DRAWING_POLL_INTERVAL_MS: '0' }, 'DRAWING_POLL_INTERVAL_MS', 'at least 1'],
    [{ DRAWING_POLL_COST_MS: '0' }, 'DRAWING_POLL_COST_MS', 'at least 1'],
    [{ DRAWING_POLL_COST_MS: '1.5s' }, 'DRAWING_POLL_COST_MS', 'must be an integer'],
    [
      { DRAWING_POLL_INTERVAL_MS: '9000', DRAWING_POLL_MAX_INTERVAL_MS: '5000' },
      'DRAWING_POLL_MAX_INTERVAL_MS',
      'at least DRAWING_POLL_INTERVAL_MS',
    ],
    [{ ATELIER_QUEUE_PREFIX: 'a:b' }, 'ATELIER_QUEUE_PREFIX', 'must not contain ":"'],
    [
      { REDIS_URL: 'redis-cluster://127.0.0.1:7000', ATELIER_QUEUE_PREFIX: 'atelier' },
      'ATELIER_QUEUE_PREFIX',
      'hash tag',
    ],
    [{ ATELIER_WORKER_QUEUES: 'drawing,video' }, 'ATELIER_WORKER_QUEUES', '"video"'],
    [
      { ATELIER_CALLBACK_ALLOW_PRIVATE: 'maybe' },
      'ATELIER_CALLBACK_ALLOW_PRIVATE',
      'true or false',
    ],
    [
      { ATELIER_IMAGE_STORE: 'gcs://bucket/images' },
      'ATELIER_IMAGE_STORE',
      'must be none, fs:<dir> or s3://<bucket>/<prefix>, got "gcs://bucket/images"',
    ],
    [{ ATELIER_IMAGE_STORE: '/var/images' }, 'ATELIER_IMAGE_STORE', 'must be none, fs:<dir>'],
    [{ ATELIER_IMAGE_STORE: 'fs:' }, 'ATELIER_IMAGE_STORE', 'fs: needs a directory'],
    [{ ATELIER_IMAGE_STORE: 's3://' }, 'ATELIER_IMAGE_STORE', 's3:// needs a bucket name'],
    [{ ATELIER_IMAGE_STORE: 's3://My_Bucket/x' }, 'ATELIER_IMAGE_STORE', '"My_Bucket"'],
    [
      { ATELIER_IMAGE_STORE: 's3://bucket/a/../b', AWS_REGION: 'eu-west-1' },
      'ATELIER_IMAGE_STORE',
      'no "." or ".." segments',
    ],
    [{ ATELIER_IMAGE_STORE: 's3://bucket/images' }, 'AWS_REGION', 'is required'],
    [
      { ATELIER_IMAGE_STORE: 's3://bucket', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA1' },
      'AWS_SECRET_ACCESS_KEY',
      'is required when the other AWS key variable is set',
    ],
    [
      { ATELIER_IMAGE_STORE: 's3://bucket', AWS_REGION: 'x', ATELIER_S3_ENDPOINT: 'minio:9000' },
      'ATELIER_S3_ENDPOINT',
      'must be an http(s) URL',
    ],
    [
      { ATELIER_IMAGE_STORE: 's3://bucket', AWS_REGION: 'x', ATELIER_S3_FORCE_PATH_STYLE: 'y?' },
      'ATELIER_S3_FORCE_PATH_STYLE',
      'true or false',
    ],
    [{ ATELIER_IMAGE_MAX_BYTES: '1000' }, 'ATELIER_IMAGE_MAX_BYTES', 'at least 1024'],
    [{ ATELIER_IMAGE_ALLOW_PRIVATE: 'sometimes' }, 'ATELIER_IMAGE_ALLOW_PRIVATE', 'true or false'],
  ])('rejects %j naming %s', (env, variable, rule) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).toContain(rule);
  });

  it.each([
    [{ ...drawingEnv, ...cmeEnv, DRAWING_BASE_URL: '' }, 'DRAWING_BASE_URL'],
    [{ ...drawingEnv, ...cmeEnv, DRAWING_QUERY_PATH: '' }, 'DRAWING_QUERY_PATH'],
    [{ ...drawingEnv, ...cmeEnv, DRAWING_APP_SECRET: '' }, 'DRAWING_APP_SECRET'],
    [{ ...drawingEnv, ...cmeEnv, DRAWING_AUTH_MODE: 'aliyun-appcode' }, 'DRAWING_APP_CODE'],
    [{ ...drawingEnv, ...cmeEnv, CME_SECRET_KEY: '' }, 'CME_SECRET_KEY'],
    [{ ...drawingEnv, ...cmeEnv, CME_PLATFORM: '' }, 'CME_PLATFORM'],
  ])('a worker without a required provider value stops, naming it (%#)', (env, variable) => {
    expect(configError(env, 'worker').variable).toBe(variable);
  });

  it('archives no images by default: 20 MiB cap, public addresses only', () => {
    expect(loadConfig({}).images).toEqual({
      store: { kind: 'none' },
      maxBytes: 20 * 1024 * 1024,
      allowPrivate: false,
      timeoutMs: 60_000,
    });
    expect(loadConfig({ ATELIER_IMAGE_STORE: 'none' }).images.store).toEqual({ kind: 'none' });
  });

  it('reads an fs image store and an S3 one with its variables', () => {
    expect(loadConfig({ ATELIER_IMAGE_STORE: 'fs:.data/images' }).images.store).toEqual({
      kind: 'fs',
      dir: '.data/images',
    });
    const s3 = loadConfig({
      ATELIER_IMAGE_STORE: 's3://atelier-images/prod/drawings/',
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 's3-secret-access-key-value',
      ATELIER_S3_ENDPOINT: 'http://minio:9000/',
      ATELIER_S3_FORCE_PATH_STYLE: 'true',
      ATELIER_IMAGE_MAX_BYTES: '1048576',
      ATELIER_IMAGE_ALLOW_PRIVATE: 'true',
    });
    expect(s3.images).toMatchObject({ maxBytes: 1_048_576, allowPrivate: true });
    expect(s3.images.store).toMatchObject({
      kind: 's3',
      bucket: 'atelier-images',
      prefix: 'prod/drawings',
      region: 'eu-central-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      accessKeyId: 'AKIAEXAMPLE',
    });
    expect(JSON.stringify(s3)).not.toContain('s3-secret-access-key-value');
    const bare = loadConfig({
      ATELIER_IMAGE_STORE: 's3://atelier-images',
      AWS_REGION: 'us-east-1',
    });
    expect(bare.images.store).toMatchObject({
      kind: 's3',
      prefix: '',
      endpoint: undefined,
      forcePathStyle: false,
      accessKeyId: undefined,
      secretAccessKey: undefined,
    });
  });

  it('a worker that does not run a queue does not need its provider', () => {
    expect(loadConfig({ ...cmeEnv, ATELIER_WORKER_QUEUES: 'cme' }, 'worker').worker.queues).toEqual(
      ['cme'],
    );
  });

  it('the API needs bearer keys', () => {
    expect(configError({}, 'api').variable).toBe('ATELIER_API_KEYS');
  });

  it('prints secrets as [redacted] however the config is shown', () => {
    const config = loadConfig({
      ...drawingEnv,
      ...cmeEnv,
      DRAWING_AUTH_MODE: 'apig',
      DRAWING_APP_CODE: 'app-code-value-0000',
      ATELIER_API_KEYS: 'api-key-value-9999',
      ATELIER_ADMIN_PASSWORD: 'admin-password-value',
      ATELIER_ADMIN_USER: 'admin',
      ATELIER_CALLBACK_SECRET: 'callback-secret-value',
    });
    const secrets = [
      'app-secret-value-1234',
      'cme-secret-key-5678',
      'AKIDid',
      'app-code-value-0000',
      'api-key-value-9999',
      'admin-password-value',
      'callback-secret-value',
    ];
    for (const shown of [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.drawing.appSecret),
    ]) {
      for (const secret of secrets) expect(shown).not.toContain(secret);
      expect(shown).toContain('[redacted]');
    }
  });
});
