import { createProducer, type Producer, producerOptionsFromConfig } from '@atelier/producer';
import { type ApiOptions, apiOptionsFromConfig, buildApi } from '@atelier/producer/http';
import {
  type AtelierConfig,
  type DeadLetter,
  type DrawingJobData,
  type HostResolver,
  loadConfig,
  QUEUE_NAMES,
} from '@atelier/shared';
import type { RedisClient } from '@atelier/store';
import { Queue } from 'bullmq';
import { captureLogger } from '../support/capture-logger.ts';
import type { RedisTestContext } from '../support/redis-context.ts';

export const ADMIN_USER = 'ops';
export const ADMIN_PASSWORD = 'correct horse battery staple';
export const API_KEY = 'admin-test-key';

/** Resolves every host to a public address (no DNS in tests). */
const publicResolver: HostResolver = async () => [{ address: '93.184.216.34', family: 4 }];

export type AdminApp = ReturnType<typeof buildApi>;

export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

export interface AdminHarness {
  app: AdminApp;
  producer: Producer;
  config: AtelierConfig;
  prefix: string;
  redis: RedisClient;
  drawingQueue: Queue<DrawingJobData>;
  logs: ReturnType<typeof captureLogger>;
  /** A plain request (no cookies unless given). */
  request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    url: string,
    options?: { headers?: Record<string, string>; form?: Record<string, string>; json?: object },
  ): Promise<Answer>;
  /** Logs in through the form; the session's cookie and CSRF token. */
  login(): Promise<Session>;
}

export interface Session {
  cookie: string;
  csrf: string;
  get(url: string, headers?: Record<string, string>): Promise<Answer>;
  /** POSTs a form with the session's CSRF token (unless `_csrf` is given). */
  post(url: string, form?: Record<string, string>): Promise<Answer>;
}

export interface AdminHarnessOptions {
  env?: Record<string, string>;
  admin?: ApiOptions['admin'];
  prefix?: string;
  /** No ATELIER_ADMIN_* variables at all. */
  noLogin?: boolean;
  /** Build the API options from config exactly as `bin/api.ts` does (ignores `admin`). */
  fromConfig?: boolean;
}

/** API + dashboard on a fresh prefix (inject only); closed by the context's cleanup. */
export async function startAdmin(
  ctx: RedisTestContext,
  options: AdminHarnessOptions = {},
): Promise<AdminHarness> {
  const prefix = options.prefix ?? ctx.prefix('adm');
  const config = loadConfig(
    {
      REDIS_URL: ctx.url,
      ATELIER_QUEUE_PREFIX: prefix,
      ATELIER_API_KEYS: API_KEY,
      ATELIER_CALLBACK_SECRET: 'callback-signing-secret',
      LOG_LEVEL: 'warn',
      ...(options.noLogin
        ? {}
        : { ATELIER_ADMIN_USER: ADMIN_USER, ATELIER_ADMIN_PASSWORD: ADMIN_PASSWORD }),
      ...options.env,
    },
    'api',
  );
  const logs = captureLogger('info');
  const base = producerOptionsFromConfig(config, { logger: logs.logger });
  const producer = createProducer({
    ...base,
    callbacks: { enabled: true, allowPrivateUrls: false, resolve: publicResolver },
  });
  const app = buildApi(
    options.fromConfig
      ? apiOptionsFromConfig(config, { producer, logger: logs.logger })
      : {
          producer,
          config,
          logger: logs.logger,
          admin: options.admin ?? { login: { failureDelayMs: 0 } },
        },
  );
  const redis = ctx.connection();
  const drawingQueue = new Queue<DrawingJobData>(QUEUE_NAMES.drawing, {
    connection: redis,
    prefix,
  });
  ctx.onCleanup(async () => {
    await app.close();
    await producer.close();
    await drawingQueue.close();
  });
  await producer.ready();
  await app.ready();

  const request: AdminHarness['request'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    let payload: string | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(o.form).toString();
    } else if (o.json) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(o.json);
    }
    const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  };

  return {
    app,
    producer,
    config,
    prefix,
    redis,
    drawingQueue,
    logs,
    request,
    async login() {
      const form = await request('GET', '/admin/login');
      const loginCookie = cookieFrom(form, 'atelier_admin_login');
      const token = fieldValue(form.body, '_login');
      const res = await request('POST', '/admin/login', {
        headers: { cookie: loginCookie },
        form: { user: ADMIN_USER, password: ADMIN_PASSWORD, _login: token, next: '/admin' },
      });
      if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode}`);
      const cookie = cookieFrom(res, 'atelier_admin_session');
      const page = await request('GET', '/admin/dead-letters', { headers: { cookie } });
      const csrf = fieldValue(page.body, '_csrf');
      return {
        cookie,
        csrf,
        get: (url, headers = {}) => request('GET', url, { headers: { cookie, ...headers } }),
        post: (url, form = {}) =>
          request('POST', url, { headers: { cookie }, form: { _csrf: csrf, ...form } }),
      };
    },
  };
}

/** `name=value` of a cookie the answer sets (for a `cookie` header). */
export function cookieFrom(res: Answer, name: string): string {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  const found = all.find((c) => c.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie in ${JSON.stringify(all)}`);
  return found.split(';')[0] as string;
}

/** The value of the first hidden/input field with this name in a page. */
export function fieldValue(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match?.[1]) throw new Error(`no ${name} field in the page`);
  return match[1];
}

/** A dead letter as a worker would file it (drawing, one attempt). */
export function deadLetter(id: string, code: string, extra: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    queue: 'drawing',
    kind: 'drawing',
    code,
    message: `failed with ${code}`,
    providerMessage: `provider said ${code}`,
    attempts: 1,
    history: [{ attempt: 1, at: Date.now(), code, message: `failed with ${code}` }],
    request: { text: `text of ${id}`, style: '油画', resolution: '1024*1024', num: 1 },
    meta: { enqueuedAt: Date.now() },
    failedAt: Date.now(),
    ...extra,
  };
}
