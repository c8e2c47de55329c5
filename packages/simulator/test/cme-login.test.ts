import { afterEach, describe, expect, it } from 'vitest';
import { specVectors } from '../../../test/fixtures/spec-vectors.ts';
import type { CmeSimulator } from '../src/index.ts';
import {
  callApi,
  fakeClock,
  loginFields,
  loginWith,
  PLATFORM,
  SECRET_KEY,
  signLogin,
  startCme,
} from './cme-test-support.ts';

let sim: CmeSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('the test signer', () => {
  it('reproduces the spec vectors', () => {
    const vectors = specVectors.cmeLogin;
    expect(vectors.length).toBeGreaterThanOrEqual(2);
    for (const vector of vectors) {
      expect(signLogin(vector.fields, vector.secretKey)).toBe(vector.signature);
    }
  });
});

describe('CME login (ticket exchange)', () => {
  it('accepts the V1 vector at its own time and answers in the new shape', async () => {
    const v1 = specVectors.cmeLogin[0];
    if (!v1) throw new Error('vectors.json has no cmeLogin entries');
    sim = await startCme({ clock: () => v1.fields.currentTimeStamp * 1000 + 1_000 });
    const { status, body } = await loginWith(sim, v1.signature);
    expect(status).toBe(200);
    const response = body.Response as Record<string, unknown>;
    expect(Object.keys(response).sort()).toEqual([
      'AppId',
      'Authorization',
      'Platform',
      'RequestId',
      'TfUid',
    ]);
    expect(response).toMatchObject({ AppId: 1_200_000_001, Platform: PLATFORM });
    expect(response.Authorization).toMatch(/^tf_[A-Za-z0-9_-]{20,}$/);
  });

  it('mints a new ticket per login, keeps the TfUid per user, and the ticket works', async () => {
    sim = await startCme();
    const first = (await loginWith(sim, signLogin(loginFields('user_001'), SECRET_KEY))).body;
    const second = (await loginWith(sim, signLogin(loginFields('user_001'), SECRET_KEY))).body;
    const other = (await loginWith(sim, signLogin(loginFields('user_002'), SECRET_KEY))).body;
    const [a, b, c] = [first, second, other].map(
      (body) => body.Response as { Authorization: string; TfUid: string },
    );
    expect(a?.Authorization).not.toBe(b?.Authorization);
    expect(a?.TfUid).toBe(b?.TfUid);
    expect(c?.TfUid).not.toBe(a?.TfUid);
    const answer = await callApi(sim, 'DescribeMaterials', a?.Authorization ?? '', {
      MaterialIds: ['nope'],
    });
    expect(answer.Code).toBe('Success');
    expect(sim.counters().logins).toEqual({
      attempts: 3,
      total: 3,
      failed: 0,
      byUser: { user_001: 2, user_002: 1 },
    });
  });

  it('answers in the old shape when switched to it at runtime', async () => {
    sim = await startCme();
    sim.setLoginShape('old');
    const { body } = await loginWith(sim, signLogin(loginFields('user_001'), SECRET_KEY));
    expect(body).toEqual({
      Code: 'Success',
      Message: '成功',
      EnglishMessage: 'OK',
      Data: {
        AppId: 1_200_000_001,
        Platform: PLATFORM,
        UserId: 'user_001',
        Authorization: expect.stringMatching(/^tf_/),
      },
    });
  });

  it('rejects a signature made with another key, in both shapes', async () => {
    sim = await startCme();
    const signature = signLogin(loginFields('user_001'), 'not-the-secret-key');
    expect((await loginWith(sim, signature)).body).toEqual({
      Response: {
        Error: { Code: 'SignatureVerifyFail', Message: 'Signature Verify Fail' },
        RequestId: expect.any(String),
      },
    });
    sim.setLoginShape('old');
    expect((await loginWith(sim, signature)).body).toEqual({
      Code: 'SignatureVerifyFail',
      Message: '签名校验失败',
      EnglishMessage: 'Signature Verify Fail',
    });
    expect(sim.counters().logins).toMatchObject({ attempts: 2, total: 0, failed: 2 });
  });

  it('rejects an unknown platform, in both shapes', async () => {
    sim = await startCme();
    const signature = signLogin(loginFields('user_001', { platform: 'other' }), SECRET_KEY);
    expect((await loginWith(sim, signature)).body).toEqual({
      Response: {
        Error: { Code: 'InvalidParameterValue.Platform', Message: 'platform not exist' },
        RequestId: expect.any(String),
      },
    });
    sim.setLoginShape('old');
    expect((await loginWith(sim, signature)).body).toEqual({
      Code: 'InvalidParameterValue.Platform',
      Message: '平台不存在',
      EnglishMessage: 'platform not exist',
    });
  });

  it('rejects an expired signature, one from too far in the future, and a foreign secretId', async () => {
    const clock = fakeClock();
    sim = await startCme({ clock: clock.now, maxClockSkewMs: 60_000 });
    const now = clock.now();
    const codeOf = async (overrides: Parameters<typeof loginFields>[1]) => {
      const signature = signLogin(loginFields('user_001', overrides, now), SECRET_KEY);
      const { body } = await loginWith(sim as CmeSimulator, signature);
      return (body.Response as { Error?: { Code: string } }).Error?.Code ?? 'ok';
    };
    const nowSec = now / 1000;
    expect(await codeOf({ currentTimeStamp: nowSec - 400, expireTime: nowSec - 100 })).toBe(
      'SignatureVerifyFail',
    );
    expect(await codeOf({ currentTimeStamp: nowSec + 120, expireTime: nowSec + 420 })).toBe(
      'SignatureVerifyFail',
    );
    expect(await codeOf({ currentTimeStamp: nowSec + 30, expireTime: nowSec + 330 })).toBe('ok');
    expect(await codeOf({ secretId: 'AKIDsomeoneElse' })).toBe('SignatureVerifyFail');
    expect(await codeOf({ action: 'Upload' })).toBe('InvalidParameterValue.Action');
  });

  it('fails a signature sent without percent-encoding once it contains a +', async () => {
    sim = await startCme();
    let random = 1;
    let signature = signLogin(loginFields('user_001', { random }), SECRET_KEY);
    while (!signature.includes('+')) {
      random++;
      signature = signLogin(loginFields('user_001', { random }), SECRET_KEY);
    }
    const raw = await fetch(`${sim.loginUrl}?signature=${signature}`);
    const body = (await raw.json()) as { Response: { Error?: { Code: string } } };
    expect(body.Response.Error?.Code).toBe('SignatureVerifyFail');
    expect((await loginWith(sim, signature)).body.Response).toHaveProperty('Authorization');
  });

  it('answers a missing signature with MissingParameter and uses the configured failure status', async () => {
    sim = await startCme({ loginFailureHttpStatus: 400, loginPath: '/login' });
    expect(sim.loginUrl).toBe(`${sim.url}/login`);
    const res = await fetch(sim.loginUrl);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ Response: { Error: { Code: 'MissingParameter' } } });
    expect((await fetch(`${sim.url}/?signature=x`)).status).toBe(404);
  });
});
