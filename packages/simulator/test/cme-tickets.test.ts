import { afterEach, describe, expect, it } from 'vitest';
import type { CmeSimulator } from '../src/index.ts';
import { admin, callApi, callRaw, fakeClock, loginTicket, startCme } from './cme-test-support.ts';

const SESSION_INVALID = {
  Code: 'AuthFailure.SessionInvalid',
  Message: '登录态已失效',
  EnglishMessage: 'session invalid',
};

let sim: CmeSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function works(s: CmeSimulator, ticket: string): Promise<string> {
  return (await callApi(s, 'DescribeMaterials', ticket, { MaterialIds: ['x'] })).Code;
}

describe('CME tickets', () => {
  it('expire after ticketLifetimeMs', async () => {
    const clock = fakeClock();
    sim = await startCme({ clock: clock.now, ticketLifetimeMs: 60_000 });
    const ticket = await loginTicket(sim, 'user_001', clock.now());
    clock.advance(59_999);
    expect(await works(sim, ticket)).toBe('Success');
    clock.advance(1);
    expect(await callApi(sim, 'DescribeMaterials', ticket, { MaterialIds: ['x'] })).toEqual(
      SESSION_INVALID,
    );
    expect(sim.counters().authFailures).toBe(1);
    expect(sim.counters().faults.total).toBe(0);
  });

  it('revoke(userId) ends only that user’s tickets; revoke() ends all', async () => {
    sim = await startCme();
    const alice1 = await loginTicket(sim, 'alice');
    const alice2 = await loginTicket(sim, 'alice');
    const bob = await loginTicket(sim, 'bob');
    expect(sim.liveTickets()).toBe(3);
    expect(sim.revoke('alice')).toBe(2);
    expect(await works(sim, alice1)).toBe('AuthFailure.SessionInvalid');
    expect(await works(sim, alice2)).toBe('AuthFailure.SessionInvalid');
    expect(await works(sim, bob)).toBe('Success');
    expect(sim.revoke()).toBe(1);
    expect(await works(sim, bob)).toBe('AuthFailure.SessionInvalid');
    const fresh = await loginTicket(sim, 'alice');
    expect(await works(sim, fresh)).toBe('Success');
  });

  it('expireAll() and the admin endpoints end tickets too', async () => {
    sim = await startCme();
    const first = await loginTicket(sim, 'alice');
    expect(sim.expireAll()).toBe(1);
    expect(await works(sim, first)).toBe('AuthFailure.SessionInvalid');

    const alice = await loginTicket(sim, 'alice');
    const bob = await loginTicket(sim, 'bob');
    expect(await admin(sim, 'POST', 'revoke', { userId: 'bob' })).toEqual({
      status: 200,
      body: { revoked: 1 },
    });
    expect(await works(sim, bob)).toBe('AuthFailure.SessionInvalid');
    expect(await works(sim, alice)).toBe('Success');
    expect((await admin(sim, 'POST', 'expire')).body).toEqual({ expired: 1 });
    expect(await works(sim, alice)).toBe('AuthFailure.SessionInvalid');
  });

  it('rejects unknown tickets and calls without auth', async () => {
    sim = await startCme();
    expect(await works(sim, 'tf_made_up')).toBe('AuthFailure.SessionInvalid');
    const res = await fetch(`${sim.apiBaseUrl}/PaaS/Material/DescribeMaterials`, {
      method: 'POST',
      body: '{"MaterialIds":["x"]}',
    });
    expect(await res.json()).toMatchObject({ Code: 'AuthFailure.InvalidAuthorization' });
    expect(sim.counters().authFailures).toBe(2);
    expect(sim.counters().apiCalls.byUser).toEqual({});
  });

  it('serves auth failures with the configured HTTP status', async () => {
    sim = await startCme({ authFailureHttpStatus: 401 });
    const res = await callRaw(sim, 'DescribeMaterials', 'tf_made_up', { MaterialIds: ['x'] });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(SESSION_INVALID);
    const ticket = sim.issueTicket('alice');
    expect((await callRaw(sim, 'DescribeMaterials', ticket, { MaterialIds: ['x'] })).status).toBe(
      200,
    );
  });
});
