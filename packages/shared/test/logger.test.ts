import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lazyChild, ProviderError, Secret } from '../src/index.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { lines, logger: createLogger({ name: 'test', destination }) };
}

const SECRETS = {
  appSecret: 'S-appSecret-111111',
  appCode: 'S-appCode-222222',
  secretKey: 'S-secretKey-333333',
  secretId: 'S-secretId-444444',
  password: 'S-password-555555',
  authorization: 'SDK-HMAC-SHA256 Access=k, Signature=S-sig-666666',
  ticket: 'S-ticket-777777',
  signature: 'S-signature-888888',
  apiKey: 'S-apiKey-999999',
  callbackSecret: 'S-callbackSecret-000000',
  appCodeHeader: 'S-appCodeHeader-121212',
  urlAuth: 'S-urlAuth-131313',
  urlSignature: 'S-urlSignature-141414',
  secretValue: 'S-secretValue-151515',
  errorTicket: 'S-errorTicket-161616',
};

describe('logger', () => {
  it('a line carrying every secret path shows none of the secrets', () => {
    const { lines, logger } = capture();
    const nested = {
      appSecret: SECRETS.appSecret,
      appCode: SECRETS.appCode,
      secretKey: SECRETS.secretKey,
      secretId: SECRETS.secretId,
      password: SECRETS.password,
      ticket: SECRETS.ticket,
      signature: SECRETS.signature,
      apiKey: SECRETS.apiKey,
      callbackSecret: SECRETS.callbackSecret,
    };
    const error = new ProviderError(
      `login failed for https://open.cme.qcloud.com?signature=${SECRETS.urlSignature}`,
      {
        provider: 'cme',
        kind: 'auth',
        code: 'AuthFailure',
        response: { ticket: SECRETS.errorTicket },
      },
    );
    logger.info(
      {
        ...nested,
        config: nested,
        provider: { drawing: nested, cme: { client: nested } },
        req: {
          headers: {
            authorization: SECRETS.authorization,
            'x-apig-appcode': SECRETS.appCodeHeader,
          },
        },
        request: {
          headers: {
            Authorization: SECRETS.authorization,
            'X-Apig-AppCode': SECRETS.appCodeHeader,
          },
        },
        url: `https://web-paas-api.cme.qcloud.com/PaaS/Material/ListMedia?auth=${SECRETS.urlAuth}&x=1`,
        held: new Secret(SECRETS.secretValue),
        err: error,
      },
      `calling https://web-paas-api.cme.qcloud.com/PaaS/Material/DeleteMaterial?auth=${SECRETS.urlAuth}`,
    );
    const output = lines.join('');
    expect(output).toContain(
      'calling https://web-paas-api.cme.qcloud.com/PaaS/Material/DeleteMaterial',
    );
    expect(output).toContain('[redacted]');
    expect(output).toContain('"code":"AuthFailure"');
    for (const [name, secret] of Object.entries(SECRETS)) {
      expect(output, `${name} leaked`).not.toContain(secret);
    }
    expect(output).not.toContain('S-sig-666666');
  });

  it('scrubs secrets from error stacks and keeps the raw response out', () => {
    const { lines, logger } = capture();
    const error = new Error(`GET https://x/?auth=${SECRETS.urlAuth} failed`);
    logger.error({ err: error }, 'boom');
    const output = lines.join('');
    expect(output).toContain('failed');
    expect(output).not.toContain(SECRETS.urlAuth);
  });

  it('lazyChild logs with its bindings (redacted) at enabled levels and makes no child for disabled ones', () => {
    const { lines, logger } = capture();
    logger.level = 'info';
    let made = 0;
    const counting = new Proxy(logger, {
      get(target, property) {
        if (property === 'child') made++;
        return Reflect.get(target, property, target);
      },
    });
    const child = lazyChild(counting, { jobId: 'j1', ticket: SECRETS.ticket });
    child.debug({ x: 1 }, 'not logged');
    expect(made).toBe(0);
    expect(child.isLevelEnabled('debug')).toBe(false);
    child.info({ x: 2 }, 'logged');
    child.warn('again');
    expect(made).toBe(1);
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] ?? '{}');
    expect(first).toMatchObject({ jobId: 'j1', x: 2, msg: 'logged', ticket: '[redacted]' });
    expect(lines.join('')).not.toContain(SECRETS.ticket);
  });
});
