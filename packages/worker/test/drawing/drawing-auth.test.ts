import { Writable } from 'node:stream';
import { createLogger, type DrawingConfig, Secret } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { signApigRequest } from '../../src/drawing/apig-signer.ts';
import { createDrawingAuth, type DrawingAuthConfig } from '../../src/drawing/drawing-auth.ts';

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

/** A Secret that counts how often it is revealed. */
class CountingSecret extends Secret {
  reveals = 0;
  override reveal(): string {
    this.reveals++;
    return super.reveal();
  }
}

const REQUEST = {
  method: 'POST',
  url: 'https://jm.example.com/draw',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
  body: Buffer.from('taskId=1'),
};

function config(overrides: Partial<DrawingConfig>): DrawingAuthConfig {
  return {
    authMode: 'none',
    appKey: undefined,
    appSecret: undefined,
    appCode: undefined,
    baseUrl: 'https://jm.example.com',
    ...overrides,
  };
}

describe('createDrawingAuth', () => {
  it('apig: adds X-Sdk-Date and the SDK-HMAC-SHA256 Authorization of the signer', () => {
    const { logger } = capture();
    const date = new Date(Date.UTC(2024, 0, 1));
    const auth = createDrawingAuth(
      config({ authMode: 'apig', appKey: 'key', appSecret: new Secret('secret') }),
      logger,
      () => date,
    );
    const result = auth.authenticate(REQUEST);
    const expected = signApigRequest({ ...REQUEST, appKey: 'key', appSecret: 'secret', date });
    expect(result.headers).toEqual({
      'X-Sdk-Date': '20240101T000000Z',
      Authorization: expected.authorization,
    });
    expect(result.canonicalRequest).toBe(expected.canonicalRequest);
    expect(result.canonicalRequest).not.toContain('secret');
  });

  it('apig: reveals the AppSecret only when signing, once per request', () => {
    const { logger } = capture();
    const appSecret = new CountingSecret('secret');
    const auth = createDrawingAuth(config({ authMode: 'apig', appKey: 'key', appSecret }), logger);
    expect(appSecret.reveals).toBe(0);
    auth.authenticate(REQUEST);
    auth.authenticate(REQUEST);
    expect(appSecret.reveals).toBe(2);
  });

  it('huawei-appcode: X-Apig-AppCode header', () => {
    const { logger, lines } = capture();
    const auth = createDrawingAuth(
      config({ authMode: 'huawei-appcode', appCode: new Secret('code-1') }),
      logger,
    );
    expect(auth.authenticate(REQUEST)).toEqual({ headers: { 'X-Apig-AppCode': 'code-1' } });
    expect(lines).toHaveLength(0);
  });

  it('huawei-appcode over plain http: warns at construction, without the code', () => {
    const { logger, lines } = capture();
    createDrawingAuth(
      config({ authMode: 'huawei-appcode', appCode: new Secret('code-1'), baseUrl: 'http://x' }),
      logger,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe(40);
    expect(String(lines[0]?.msg)).toContain('plain http');
    expect(JSON.stringify(lines)).not.toContain('code-1');
  });

  it('aliyun-appcode: Authorization: APPCODE <code>', () => {
    const { logger } = capture();
    const auth = createDrawingAuth(
      config({ authMode: 'aliyun-appcode', appCode: new Secret('code-2') }),
      logger,
    );
    expect(auth.authenticate(REQUEST).headers).toEqual({ Authorization: 'APPCODE code-2' });
  });

  it('none: adds nothing', () => {
    const { logger } = capture();
    expect(createDrawingAuth(config({}), logger).authenticate(REQUEST)).toEqual({
      headers: {},
    });
  });

  it('missing credentials throw a ConfigError naming the variable', () => {
    const { logger } = capture();
    expect(() => createDrawingAuth(config({ authMode: 'apig', appKey: 'k' }), logger)).toThrow(
      /DRAWING_APP_SECRET/,
    );
    expect(() => createDrawingAuth(config({ authMode: 'apig' }), logger)).toThrow(
      /DRAWING_APP_KEY/,
    );
    expect(() => createDrawingAuth(config({ authMode: 'aliyun-appcode' }), logger)).toThrow(
      /DRAWING_APP_CODE/,
    );
  });
});
