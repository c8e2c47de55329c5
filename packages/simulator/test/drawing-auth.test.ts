import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingSimulator, type DrawingSimulatorOptions } from '../src/index.ts';
import { encode, FORM_TYPE, formBody, json, post, TASK } from './drawing-http.ts';

const APP_KEY = 'sim-app-key';
const APP_SECRET = 'sim-app-secret-天空';

let sim: DrawingSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: DrawingSimulatorOptions) {
  sim = await DrawingSimulator.start(options);
  return sim;
}

function sdkDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** A signer written from the spec's steps, independent of the simulator's verifier. */
function sign(url: string, body: string, epochMs: number, secret = APP_SECRET) {
  const target = new URL(url);
  const date = sdkDate(epochMs);
  const path = target.pathname
    .split('/')
    .map((s) => encode(decodeURIComponent(s)))
    .join('/');
  const canonical = [
    'POST',
    path.endsWith('/') ? path : `${path}/`,
    '',
    `content-type:${FORM_TYPE}\nhost:${target.host}\nx-sdk-date:${date}\n`,
    'content-type;host;x-sdk-date',
    createHash('sha256').update(body, 'utf8').digest('hex'),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${date}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', secret).update(toSign).digest('hex');
  return {
    canonical,
    headers: {
      'x-sdk-date': date,
      authorization: `SDK-HMAC-SHA256 Access=${APP_KEY}, SignedHeaders=content-type;host;x-sdk-date, Signature=${signature}`,
    },
  };
}

describe('drawing simulator authentication', () => {
  it('apig: accepts a correctly signed call and refuses a wrong signature with APIG.0303', async () => {
    const s = await start({ auth: { mode: 'apig', apps: { [APP_KEY]: APP_SECRET } } });
    const body = formBody(TASK);
    const good = await post(s.submitUrl, body, sign(s.submitUrl, body, Date.now()).headers);
    expect(json(good)).toMatchObject({ code: 200 });

    const wrong = sign(s.submitUrl, body, Date.now(), 'not-the-secret');
    const refused = await post(s.submitUrl, body, wrong.headers);
    expect(refused.status).toBe(401);
    expect(json(refused)).toMatchObject({
      error_code: 'APIG.0303',
      error_msg: `Incorrect app authentication information: verify aksk signature fail, canonicalRequest: ${wrong.canonical.replaceAll('\n', '|')}`,
    });
    expect(s.counters()).toMatchObject({ submits: 2, tasksCreated: 1, authFailures: 1 });
  });

  it('apig: refuses a body changed after signing, a stale date, an unknown key and no headers', async () => {
    const s = await start({ auth: { mode: 'apig', apps: { [APP_KEY]: APP_SECRET } } });
    const body = formBody(TASK);
    const headers = sign(s.submitUrl, body, Date.now()).headers;
    const changed = await post(s.submitUrl, formBody({ ...TASK, num: 2 }), headers);
    expect(changed.status).toBe(401);

    const stale = sign(s.submitUrl, body, Date.now() - 16 * 60_000).headers;
    const staleAnswer = await post(s.submitUrl, body, stale);
    expect(staleAnswer.status).toBe(401);
    expect(json(staleAnswer).error_msg).toMatch(
      /^Incorrect app authentication information: X-Sdk-Date/,
    );
    const recent = sign(s.submitUrl, body, Date.now() - 14 * 60_000).headers;
    expect((await post(s.submitUrl, body, recent)).status).toBe(200);

    const unknown = {
      ...headers,
      authorization: headers.authorization.replace(APP_KEY, 'someone-else'),
    };
    expect(json(await post(s.submitUrl, body, unknown))).toMatchObject({ error_code: 'APIG.0303' });
    const bare = await post(s.submitUrl, body);
    expect(bare.status).toBe(401);
    expect(json(bare)).toMatchObject({ error_code: 'APIG.0303' });
    expect(s.counters().tasksCreated).toBe(1);
  });

  it('huawei-appcode: checks X-Apig-AppCode', async () => {
    const s = await start({ auth: { mode: 'huawei-appcode', appCodes: ['code-1'] } });
    const body = formBody(TASK);
    expect(json(await post(s.submitUrl, body, { 'x-apig-appcode': 'code-1' })).code).toBe(200);
    const wrong = await post(s.submitUrl, body, { 'x-apig-appcode': 'code-2' });
    expect(wrong.status).toBe(401);
    expect(json(wrong)).toMatchObject({ error_code: 'APIG.0303' });
    expect((await post(s.submitUrl, body)).status).toBe(401);
  });

  it('aliyun-appcode: checks Authorization: APPCODE and answers like the Aliyun gateway', async () => {
    const s = await start({ auth: { mode: 'aliyun-appcode', appCodes: ['code-1'] } });
    const body = formBody(TASK);
    expect(json(await post(s.submitUrl, body, { authorization: 'APPCODE code-1' })).code).toBe(200);
    const wrong = await post(s.submitUrl, body, { authorization: 'APPCODE code-2' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('x-ca-error-message')).toBe('Invalid AppCode');
    expect((await post(s.submitUrl, body, { 'x-apig-appcode': 'code-1' })).status).toBe(401);
  });

  it('none: lets everything through', async () => {
    const s = await start({});
    expect(json(await post(s.submitUrl, formBody(TASK), { authorization: 'garbage' })).code).toBe(
      200,
    );
  });
});
