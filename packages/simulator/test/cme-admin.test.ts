import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type CmeOwner, CmeSimulator } from '../src/index.ts';
import {
  admin,
  callApi,
  loginFields,
  loginTicket,
  loginWith,
  PLATFORM,
  SECRET_KEY,
  signLogin,
  startCme,
  waitUntil,
} from './cme-test-support.ts';

const TEAM: CmeOwner = { Type: 'TEAM', Id: 'team_1' };

let sim: CmeSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('admin endpoints', () => {
  it('GET /__admin/counters mirrors counters(); counters/reset zeroes them', async () => {
    sim = await startCme();
    const ticket = await loginTicket(sim, 'alice');
    await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'none' });
    await callApi(sim, 'DeleteMaterial', 'tf_dead', { MaterialId: 'none' });
    const { body } = await admin(sim, 'GET', 'counters');
    expect(body).toEqual(sim.counters());
    expect(body).toEqual({
      logins: { attempts: 1, total: 1, failed: 0, byUser: { alice: 1 } },
      apiCalls: { total: 2, byAction: { 'Material/DeleteMaterial': 2 }, byUser: { alice: 1 } },
      authFailures: 1,
      faults: { total: 0, byKind: {} },
    });
    await admin(sim, 'POST', 'counters/reset');
    expect(sim.counters().apiCalls.total).toBe(0);
    sim.resetCounters();
    expect(sim.counters().logins.total).toBe(0);
  });

  it('POST /__admin/seed adds materials that GET /__admin/materials lists per owner', async () => {
    sim = await startCme();
    const seeded = await admin(sim, 'POST', 'seed', {
      classes: [{ owner: TEAM, name: 'clips' }],
      materials: [
        { owner: TEAM, materialId: 'm1', name: 'one' },
        { owner: { Type: 'PERSON', Id: 'bob' } },
      ],
    });
    expect(seeded.body).toEqual({ classIds: [1], materialIds: ['m1', expect.any(String)] });
    const listed = await fetch(`${sim.url}/__admin/materials?ownerType=TEAM&ownerId=team_1`);
    expect(
      ((await listed.json()) as { BasicInfo: { Name: string } }[]).map((m) => m.BasicInfo.Name),
    ).toEqual(['one']);
    expect(sim.materials()).toHaveLength(2);
    const duplicate = await admin(sim, 'POST', 'seed', {
      materials: [{ owner: TEAM, materialId: 'm1' }],
    });
    expect(duplicate.status).toBe(400);
    expect(
      (await admin(sim, 'POST', 'seed', { materials: [{ owner: { Type: 'X' } }] })).status,
    ).toBe(400);
  });

  it('POST /__admin/reset restores the start state', async () => {
    sim = await startCme({
      seed: { materials: [{ owner: TEAM, materialId: 'seeded' }] },
      faults: { codeRates: { InternalError: 1 }, actions: ['ListMedia'] },
      loginShape: 'old',
    });
    const ticket = await loginTicket(sim, 'alice');
    sim.seed({ materials: [{ owner: TEAM, materialId: 'extra' }] });
    sim.setLoginShape('new');
    sim.resetFaults();
    expect((await admin(sim, 'POST', 'reset')).status).toBe(200);
    expect(sim.materials().map((m) => m.BasicInfo.MaterialId)).toEqual(['seeded']);
    expect(sim.counters().logins.total).toBe(0);
    expect(sim.liveTickets()).toBe(0);
    expect((await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'seeded' })).Code).toBe(
      'AuthFailure.SessionInvalid',
    );
    const fresh = await loginTicket(sim, 'alice');
    const listing = { Platform: PLATFORM, ClassId: 0, Owner: TEAM };
    expect((await callApi(sim, 'ListMedia', fresh, listing)).Code).toBe('InternalError');
    expect(sim.loginShape).toBe('old');
  });

  it('POST /__admin/login-shape switches the login answer', async () => {
    sim = await startCme();
    expect((await admin(sim, 'POST', 'login-shape', { shape: 'old' })).body).toEqual({
      shape: 'old',
    });
    const { body } = await loginWith(sim, signLogin(loginFields('alice'), SECRET_KEY));
    expect(body).toMatchObject({ Code: 'Success', Data: { UserId: 'alice' } });
    expect((await admin(sim, 'POST', 'login-shape', { shape: 'newest' })).status).toBe(400);
  });

  it('answers 404 for unknown admin routes and 400 for a non-JSON body', async () => {
    sim = await startCme();
    expect((await admin(sim, 'GET', 'nothing-here')).status).toBe(404);
    const res = await fetch(`${sim.url}/__admin/faults`, { method: 'POST', body: '{oops' });
    expect(res.status).toBe(400);
  });
});

describe('lifecycle', () => {
  it('validates options with a message naming the option', async () => {
    await expect(CmeSimulator.start({ secretKey: '', platform: 'p' })).rejects.toThrow(/secretKey/);
    await expect(
      CmeSimulator.start({ secretKey: 'k', platform: 'p', faults: { dropRate: -1 } }),
    ).rejects.toThrow(/faults\.dropRate/);
  });

  it('close() ends idle keep-alive sockets and pending slow answers promptly', async () => {
    sim = await startCme({ faults: { slowRate: 1, slowDelayMs: 60_000 } });
    const running = sim;
    const { hostname, port } = new URL(running.url);
    const agent = new Agent({ keepAlive: true });
    const idleSocket = await new Promise<Socket>((resolve, reject) => {
      const req = request({ hostname, port, path: '/__admin/counters', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket as Socket));
      });
      req.on('error', reject);
      req.end();
    });
    const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()));
    const slow = callApi(running, 'DescribeMaterials', running.issueTicket('u'), {
      MaterialIds: ['x'],
    });
    await waitUntil(() => running.counters().faults.byKind.Slow === 1, 'the slow call to arrive');
    const started = performance.now();
    sim = undefined;
    await running.close();
    await expect(slow).rejects.toThrow();
    await idleClosed;
    expect(performance.now() - started).toBeLessThan(2_000);
    agent.destroy();
  });

  it('serves hundreds of concurrent calls', async () => {
    sim = await startCme({ seed: { materials: [{ owner: TEAM, materialId: 'm1' }] } });
    const s = sim;
    const tickets = await Promise.all(['a', 'b', 'c', 'd'].map((u) => loginTicket(s, u)));
    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        callApi(s, 'DescribeMaterials', tickets[i % 4] ?? '', { MaterialIds: ['m1'] }),
      ),
    );
    expect(answers.every((a) => a.Code === 'Success')).toBe(true);
    expect(s.counters().apiCalls.total).toBe(400);
    expect(s.counters().apiCalls.byUser).toEqual({ a: 100, b: 100, c: 100, d: 100 });
  });
});
