import { Writable } from 'node:stream';
import {
  createLogger,
  type DrawingTask,
  type Logger,
  loadConfig,
  outcomeLabel,
  Secret,
} from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { signApigRequest } from '../../src/drawing/apig-signer.ts';
import { createDrawingAuth, type DrawingAuth } from '../../src/drawing/drawing-auth.ts';
import {
  type DrawingCall,
  DrawingClient,
  type DrawingClientOptions,
} from '../../src/drawing/drawing-client.ts';
import { type Handler, json, startTinyProvider } from './tiny-provider.ts';

const TASK: DrawingTask = { text: '一只猫 cat', style: '油画', resolution: '1024*1024', num: 1 };
const APP_SECRET = 'app-secret-never-logged';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()));
      callback();
    },
  });
  return { lines, logger: createLogger({ name: 'test', destination, level: 'debug' }) };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(handler: Handler, options: Partial<DrawingClientOptions> = {}) {
  const server = await startTinyProvider(handler);
  cleanups.push(server.close);
  const { lines, logger } = capture();
  const calls: DrawingCall[] = [];
  const auth: DrawingAuth = createDrawingAuth(
    {
      authMode: 'apig',
      appKey: 'key-1',
      appSecret: new Secret(APP_SECRET),
      appCode: undefined,
      baseUrl: server.url,
    },
    logger,
  );
  const client = new DrawingClient({
    baseUrl: server.url,
    submitPath: '/ai/draw/submit',
    queryPath: '/ai/draw/query',
    auth,
    logger: logger as Logger,
    requestTimeoutMs: 2000,
    onCall: (call) => calls.push(call),
    ...options,
  });
  cleanups.push(() => client.close());
  return { server, client, calls, lines };
}

describe('DrawingClient against a local HTTP server', () => {
  it('sends one signed form POST whose bytes are exactly what was signed', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, { code: 200, msg: '成功', taskNo: 'n1', data: { taskId: 't-1' } }),
    );
    await expect(client.submit(TASK)).resolves.toEqual({
      kind: 'ok',
      value: { taskId: 't-1', taskNo: 'n1' },
    });
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    if (!req) throw new Error('no request');
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/ai/draw/submit');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=UTF-8');
    expect(req.body.toString('utf8')).toBe(
      'text=%E4%B8%80%E5%8F%AA%E7%8C%AB%20cat&style=%E6%B2%B9%E7%94%BB&resolution=1024%2A1024&num=1',
    );
    // Re-sign what arrived (host, date and content type as received, the received bytes).
    const resigned = signApigRequest({
      method: 'POST',
      url: `http://${req.headers.host}${req.url}`,
      headers: {
        'content-type': String(req.headers['content-type']),
        'x-sdk-date': String(req.headers['x-sdk-date']),
      },
      body: req.body,
      appKey: 'key-1',
      appSecret: APP_SECRET,
    });
    expect(req.headers.authorization).toBe(resigned.authorization);
    expect(req.headers['x-sdk-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('queries with taskId in the form body and reuses the keep-alive connection', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, { code: 200, data: { status: 0, waiting: 3 } }),
    );
    for (let i = 0; i < 3; i++) {
      await expect(client.query('1234567890123456789012')).resolves.toEqual({
        kind: 'pending',
        hintMs: 3000,
      });
    }
    expect(server.requests.map((r) => r.body.toString())).toEqual(
      Array(3).fill('taskId=1234567890123456789012'),
    );
    expect(server.connections()).toBe(1);
  });

  it('joins a base URL with a path prefix and trailing slash', async () => {
    const { server } = await setup((_req, res) => json(res, { code: 200, data: { taskId: 'x' } }));
    const { logger } = capture();
    const client = new DrawingClient({
      baseUrl: `${server.url}/prefix/`,
      submitPath: 'submit',
      queryPath: '/query',
      auth: createDrawingAuth(
        {
          authMode: 'none',
          appKey: undefined,
          appSecret: undefined,
          appCode: undefined,
          baseUrl: server.url,
        },
        logger,
      ),
      logger,
    });
    cleanups.push(() => client.close());
    expect((await client.submit(TASK)).kind).toBe('ok');
    expect(server.requests[0]?.url).toBe('/prefix/submit');
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('reports every call to onCall with outcome, code, status and duration', async () => {
    const { client, calls } = await setup((_req, res) => json(res, { code: 202, msg: '违规' }));
    const outcome = await client.submit(TASK);
    expect(outcomeLabel(outcome)).toBe('terminal');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      operation: 'submit',
      outcome: 'terminal',
      code: '202',
      httpStatus: 200,
    });
    expect(calls[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a dropped connection → retryable NETWORK, not a throw', async () => {
    const { client, calls } = await setup((_req, res) => res.socket?.destroy());
    const outcome = await client.submit(TASK);
    expect(outcomeLabel(outcome)).toBe('retryable');
    expect('error' in outcome && outcome.error.code).toBe('NETWORK');
    expect(calls[0]).toMatchObject({ outcome: 'retryable', code: 'NETWORK' });
    expect(calls[0]?.httpStatus).toBeUndefined();
  });

  it('an answer slower than requestTimeoutMs → retryable TIMEOUT', async () => {
    const { client } = await setup(
      (_req, res) => {
        const timer = setTimeout(() => json(res, { code: 200, data: { taskId: 'late' } }), 2000);
        res.on('close', () => clearTimeout(timer));
      },
      { requestTimeoutMs: 100 },
    );
    const outcome = await client.submit(TASK);
    expect(outcomeLabel(outcome)).toBe('retryable');
    expect('error' in outcome && outcome.error.code).toBe('TIMEOUT');
  });

  it('malformed JSON → retryable MALFORMED_RESPONSE', async () => {
    const { client } = await setup((_req, res) => json(res, '{"code":200,"data":{'));
    const outcome = await client.query('t');
    expect('error' in outcome && outcome.error.code).toBe('MALFORMED_RESPONSE');
  });

  it('aborting the signal mid-request rejects with the abort reason', async () => {
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { client, calls } = await setup(() => arrived());
    const controller = new AbortController();
    const pending = client.submit(TASK, controller.signal);
    await arrival;
    const reason = new Error('job cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(calls).toHaveLength(0);
  });

  it('an already aborted signal rejects without sending anything', async () => {
    const { client, server } = await setup((_req, res) => json(res, { code: 200 }));
    const reason = new Error('gone');
    await expect(client.query('t', AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(server.requests).toHaveLength(0);
  });

  it('a config outcome is logged at error with both canonical requests, never a secret', async () => {
    const echo = 'POST|/ai/draw/submit/||host:x|x-sdk-date:y||host;x-sdk-date|abc';
    const { client, lines } = await setup((_req, res) =>
      json(
        res,
        {
          error_code: 'APIG.0303',
          error_msg: `Incorrect app authentication information: verify signature fail, canonicalRequest:${echo}`,
        },
        401,
      ),
    );
    const outcome = await client.submit(TASK);
    expect(outcomeLabel(outcome)).toBe('config');
    const line = lines.find((l) => l.level === 50);
    expect(line).toMatchObject({
      operation: 'submit',
      code: 'APIG.0303',
      gatewayCanonicalRequest: echo.replaceAll('|', '\n'),
    });
    expect(String(line?.canonicalRequest)).toMatch(/^POST\n\/ai\/draw\/submit\/\n/);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(APP_SECRET);
    expect(logged).not.toContain('Signature=');
  });

  it('logs ordinary calls at debug with durationMs', async () => {
    const { client, lines } = await setup((_req, res) =>
      json(res, { code: 200, data: { status: 1, img: 'https://i/1.png' } }),
    );
    await expect(client.query('t')).resolves.toEqual({
      kind: 'ok',
      value: { images: ['https://i/1.png'] },
    });
    expect(lines.find((l) => l.msg === 'drawing call')).toMatchObject({
      level: 20,
      operation: 'query',
      outcome: 'ok',
      code: '200',
      provider: 'drawing',
    });
  });

  it('fromConfig builds a working client from DrawingConfig, or names the missing variable', async () => {
    const { server } = await setup((_req, res) => json(res, { code: 200, data: { taskId: 'c' } }));
    const { logger } = capture();
    const drawing = loadConfig({
      DRAWING_BASE_URL: server.url,
      DRAWING_SUBMIT_PATH: '/s',
      DRAWING_QUERY_PATH: '/q',
      DRAWING_AUTH_MODE: 'aliyun-appcode',
      DRAWING_APP_CODE: 'code-9',
    }).drawing;
    const client = DrawingClient.fromConfig(drawing, { logger });
    cleanups.push(() => client.close());
    await expect(client.submit(TASK)).resolves.toMatchObject({
      kind: 'ok',
      value: { taskId: 'c' },
    });
    expect(server.requests[0]?.url).toBe('/s');
    expect(server.requests[0]?.headers.authorization).toBe('APPCODE code-9');
    expect(() => DrawingClient.fromConfig({ ...drawing, baseUrl: undefined }, { logger })).toThrow(
      /DRAWING_BASE_URL/,
    );
  });
});
