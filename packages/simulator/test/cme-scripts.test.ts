import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CmeOwner, CmeSimulator } from '../src/index.ts';
import {
  admin,
  callApi,
  callRaw,
  loginFields,
  loginWith,
  SECRET_KEY,
  signLogin,
  startCme,
} from './cme-test-support.ts';

const TEAM: CmeOwner = { Type: 'TEAM', Id: 'team_1' };

let sim: CmeSimulator;
let ticket: string;
beforeEach(async () => {
  sim = await startCme({
    seed: { materials: ['m1', 'm2', 'm3'].map((materialId) => ({ owner: TEAM, materialId })) },
  });
  ticket = sim.issueTicket('alice');
});
afterEach(() => sim.close());

const remaining = () => sim.materials().map((m) => m.BasicInfo.MaterialId);
const del = (materialId: string) =>
  callApi(sim, 'DeleteMaterial', ticket, { MaterialId: materialId });

describe('scripted answers', () => {
  it('serve InternalError twice, then the normal answer', async () => {
    sim.script('DeleteMaterial', [{ code: 'InternalError' }, { code: 'InternalError' }]);
    expect((await del('m1')).Code).toBe('InternalError');
    expect(remaining()).toContain('m1');
    expect((await del('m1')).Code).toBe('InternalError');
    expect((await del('m1')).Code).toBe('Success');
    expect(remaining()).not.toContain('m1');
    expect(sim.faults().scriptedRemaining).toBe(0);
    expect(sim.counters().faults.byKind).toEqual({ InternalError: 2 });
  });

  it('match by MaterialId and by user', async () => {
    sim.script({ materialId: 'm2' }, [
      { code: 'ResourceInUse', message: '占用', englishMessage: 'busy' },
    ]);
    sim.script({ userId: 'bob' }, [{ code: 'RequestLimitExceeded' }]);
    expect((await del('m1')).Code).toBe('Success');
    expect(await del('m2')).toEqual({
      Code: 'ResourceInUse',
      Message: '占用',
      EnglishMessage: 'busy',
    });
    const bob = sim.issueTicket('bob');
    expect((await callApi(sim, 'DeleteMaterial', bob, { MaterialId: 'm3' })).Code).toBe(
      'RequestLimitExceeded',
    );
    const described = await callApi(sim, 'DescribeMaterials', ticket, { MaterialIds: ['m2'] });
    expect(described.Code).toBe('Success');
  });

  it('serve every answer kind in order', async () => {
    sim.script('DescribeMaterials', [
      { http: 429, body: { message: 'slow down' } },
      { malformed: true },
      { drop: true },
      { delayMs: 50 },
      { normal: true },
      { code: 'AuthFailure.SessionInvalid' },
    ]);
    const body = { MaterialIds: ['m1'] };
    const first = await callRaw(sim, 'DescribeMaterials', ticket, body);
    expect(first.status).toBe(429);
    expect(await first.json()).toEqual({ message: 'slow down' });
    await expect((await callRaw(sim, 'DescribeMaterials', ticket, body)).json()).rejects.toThrow(
      SyntaxError,
    );
    await expect(callRaw(sim, 'DescribeMaterials', ticket, body)).rejects.toThrow(/fetch failed/);
    expect((await callApi(sim, 'DescribeMaterials', ticket, body)).Code).toBe('Success');
    expect((await callApi(sim, 'DescribeMaterials', ticket, body)).Code).toBe('Success');
    expect((await callApi(sim, 'DescribeMaterials', ticket, body)).Code).toBe(
      'AuthFailure.SessionInvalid',
    );
    const counters = sim.counters();
    expect(counters.faults.byKind).toEqual({
      'HTTP 429': 1,
      MalformedJson: 1,
      ConnectionDrop: 1,
      Slow: 1,
      'AuthFailure.SessionInvalid': 1,
    });
    expect(counters.authFailures).toBe(1);
  });

  it('can apply the action before failing (the lost-answer case)', async () => {
    sim.script({ action: 'Material/DeleteMaterial', materialId: 'm1' }, [
      { drop: true, applied: true },
    ]);
    await expect(callRaw(sim, 'DeleteMaterial', ticket, { MaterialId: 'm1' })).rejects.toThrow(
      /fetch failed/,
    );
    expect(remaining()).not.toContain('m1');
    expect(await del('m1')).toMatchObject({ Code: 'InvalidParameterValue.MaterialId' });
  });

  it('script the login, in the current login shape', async () => {
    sim.setLoginShape('old');
    sim.script('Login', [{ code: 'InternalError' }]);
    const signature = signLogin(loginFields('alice'), SECRET_KEY);
    expect((await loginWith(sim, signature)).body).toEqual({
      Code: 'InternalError',
      Message: '内部错误',
      EnglishMessage: 'internal error',
    });
    expect((await loginWith(sim, signature)).body).toMatchObject({ Code: 'Success' });
    expect(sim.counters().logins).toMatchObject({ attempts: 2, total: 1, failed: 1 });
  });

  it('are accepted by POST /__admin/script and validated', async () => {
    const ok = await admin(sim, 'POST', 'script', {
      match: { materialId: 'm1' },
      answers: [{ code: 'FailedOperation' }],
    });
    expect(ok.body).toMatchObject({ scriptedRemaining: 1 });
    expect((await del('m1')).Code).toBe('FailedOperation');
    const bad = await admin(sim, 'POST', 'script', {
      match: 'DeleteMaterial',
      answers: [{ oops: 1 }],
    });
    expect(bad.status).toBe(400);
    expect(() => sim.script('DeleteMaterial', [])).toThrow(TypeError);
  });
});
