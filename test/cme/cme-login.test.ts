import { outcomeLabel, Secret } from '@atelier/shared';
import { createCmeHttp, LoginClient } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { type CmeHarness, PLATFORM, SECRET_ID, startCmeHarness } from './cme-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

function loginClient(h: CmeHarness, overrides: { platform?: string; secretKey?: string } = {}) {
  const http = createCmeHttp({ requestTimeoutMs: 2000 });
  ctx.onCleanup(async () => http.close());
  return new LoginClient({
    http: http.got,
    loginUrl: h.config.loginUrl,
    platform: overrides.platform ?? PLATFORM,
    secretId: new Secret(SECRET_ID),
    secretKey: new Secret(overrides.secretKey ?? h.secretKey),
  });
}

describe('CME login client against the simulator', () => {
  it.each(['new', 'old'] as const)('accepts the %s success shape', async (loginShape) => {
    const h = await startCmeHarness(ctx, { simulator: { loginShape } });
    const before = Date.now();
    const outcome = await loginClient(h).login('user_001');
    if (outcome.kind !== 'ok') throw new Error(`login failed: ${outcomeLabel(outcome)}`);
    const ticket = outcome.value;
    expect(ticket.authorization).toMatch(/^tf_/);
    expect(ticket).toMatchObject({ platform: PLATFORM, userId: 'user_001', appId: 1_200_000_001 });
    expect(ticket.obtainedAt).toBeGreaterThanOrEqual(before);
    // Only the new shape carries the TfUid.
    if (loginShape === 'new') expect(ticket.tfUid).toMatch(/^[0-9a-f]{24}$/);
    else expect(ticket.tfUid).toBeUndefined();
    expect(h.simulator.counters().logins).toMatchObject({ attempts: 1, total: 1 });
  });

  it.each(['new', 'old'] as const)(
    'classifies an unknown platform in the %s failure shape as a config error',
    async (loginShape) => {
      const h = await startCmeHarness(ctx, { simulator: { loginShape } });
      const outcome = await loginClient(h, { platform: 'no_such_platform' }).login('user_001');
      expect(outcomeLabel(outcome)).toBe('config');
      if (outcome.kind !== 'failed') return;
      expect(outcome.error.code).toBe('InvalidParameterValue.Platform');
      expect(outcome.error.message).toContain('CME_PLATFORM');
      expect(h.simulator.counters().logins).toMatchObject({ attempts: 1, failed: 1 });
    },
  );

  it.each(['new', 'old'] as const)(
    'a wrong SecretKey (%s shape): re-signs once, then a config error',
    async (loginShape) => {
      const h = await startCmeHarness(ctx, { simulator: { loginShape } });
      const outcome = await loginClient(h, { secretKey: 'not-the-key' }).login('user_001');
      expect(outcomeLabel(outcome)).toBe('config');
      if (outcome.kind !== 'failed') return;
      expect(outcome.error.code).toBe('SignatureVerifyFail');
      expect(outcome.error.message).toContain('CME_SECRET_KEY');
      expect(h.simulator.counters().logins).toMatchObject({ attempts: 2, failed: 2, total: 0 });
    },
  );

  it('a single SignatureVerifyFail is healed by signing again', async () => {
    const h = await startCmeHarness(ctx, { simulator: { loginShape: 'old' } });
    h.simulator.script('Login', [{ code: 'SignatureVerifyFail' }]);
    const outcome = await loginClient(h).login('user_001');
    expect(outcome.kind).toBe('ok');
    expect(h.simulator.counters().logins).toMatchObject({ attempts: 2, total: 1 });
  });

  it.each([
    ['InternalError', { code: 'InternalError' }, 'retryable'],
    ['HTTP_502', { http: 502, body: '<html>bad gateway</html>' }, 'retryable'],
    ['MALFORMED_RESPONSE', { malformed: true as const }, 'retryable'],
    ['NETWORK', { drop: true as const }, 'retryable'],
  ])(
    'a transient login failure (%s) is retryable and not re-signed',
    async (code, answer, kind) => {
      const h = await startCmeHarness(ctx);
      h.simulator.script('Login', [answer]);
      const outcome = await loginClient(h).login('user_001');
      expect(outcomeLabel(outcome)).toBe(kind);
      if (outcome.kind !== 'failed') return;
      expect(outcome.error.code).toBe(code);
      expect(h.simulator.counters().logins.attempts).toBe(1);
    },
  );

  it('a login endpoint that is down is a retryable network failure', async () => {
    const h = await startCmeHarness(ctx);
    await h.simulator.close();
    const outcome = await loginClient(h).login('user_001');
    expect(outcomeLabel(outcome)).toBe('retryable');
    if (outcome.kind !== 'failed') return;
    expect(outcome.error.code).toBe('NETWORK');
    expect(outcome.error.message).not.toContain('signature=');
  });

  it('refuses userIds outside [A-Za-z0-9_.@-] without calling the server', async () => {
    const h = await startCmeHarness(ctx);
    const outcome = await loginClient(h).login('a b/c');
    expect(outcomeLabel(outcome)).toBe('terminal');
    expect(h.simulator.counters().logins.attempts).toBe(0);
  });

  it('an aborted login rejects with the abort reason', async () => {
    const h = await startCmeHarness(ctx);
    h.simulator.setFaults({ actions: ['Login'], delayMs: 2000 });
    const controller = new AbortController();
    const pending = loginClient(h).login('user_001', controller.signal);
    // Abort while the login is in flight: the simulator holds its answer for 2 s.
    await waitFor(() => h.simulator.counters().logins.attempts === 1, { what: 'the login call' });
    controller.abort(new Error('job cancelled'));
    await expect(pending).rejects.toThrow('job cancelled');
  });
});
