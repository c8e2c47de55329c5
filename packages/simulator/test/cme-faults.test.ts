import { afterEach, describe, expect, it } from 'vitest';
import type { CmeSimulator } from '../src/index.ts';
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

const DESCRIBE = { MaterialIds: ['x'] };

let sim: CmeSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('random faults', () => {
  it.each([
    'InternalError',
    'RequestLimitExceeded',
    'ServiceUnavailable',
    'FailedOperation',
    'ResourceInUse',
    'LimitExceeded.BillItem',
  ])('serve %s at rate 1 and count it', async (code) => {
    sim = await startCme({ faults: { codeRates: { [code]: 1 } } });
    const answer = await callApi(sim, 'DescribeMaterials', sim.issueTicket('u'), DESCRIBE);
    expect(answer).toEqual({
      Code: code,
      Message: expect.any(String),
      EnglishMessage: expect.any(String),
    });
    expect(sim.counters().faults).toEqual({ total: 1, byKind: { [code]: 1 } });
  });

  it('serve bare HTTP 5xx gateway pages', async () => {
    sim = await startCme({ faults: { http5xxRate: 1, http5xxStatus: 502 } });
    const res = await callRaw(sim, 'DescribeMaterials', sim.issueTicket('u'), DESCRIBE);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('502 Bad Gateway');
    expect(sim.counters().faults.byKind).toEqual({ 'HTTP 502': 1 });
  });

  it('serve cut-off JSON', async () => {
    sim = await startCme({ faults: { malformedRate: 1 } });
    const res = await callRaw(sim, 'DescribeMaterials', sim.issueTicket('u'), DESCRIBE);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow(SyntaxError);
    expect(sim.counters().faults.byKind).toEqual({ MalformedJson: 1 });
  });

  it('drop connections', async () => {
    sim = await startCme({ faults: { dropRate: 1 } });
    await expect(callRaw(sim, 'DescribeMaterials', sim.issueTicket('u'), DESCRIBE)).rejects.toThrow(
      /fetch failed/,
    );
    expect(sim.counters().faults.byKind).toEqual({ ConnectionDrop: 1 });
  });

  it('answer slowly (rate + delay) and delay every answer (delayMs)', async () => {
    sim = await startCme({ faults: { slowRate: 1, slowDelayMs: 60_000 } });
    const ticket = sim.issueTicket('u');
    await expect(
      callRaw(sim, 'DescribeMaterials', ticket, DESCRIBE, { signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow(/abort|timeout/i);
    sim.resetFaults();
    sim.setFaults({ delayMs: 150 });
    const started = performance.now();
    expect((await callApi(sim, 'DescribeMaterials', ticket, DESCRIBE)).Code).toBe('Success');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(sim.counters().faults.byKind).toEqual({ Slow: 2 });
  });

  it('force AuthFailure for the next N calls, whatever the ticket', async () => {
    sim = await startCme({ faults: { forceAuthFailures: 2 } });
    const ticket = sim.issueTicket('u');
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push((await callApi(sim, 'DescribeMaterials', ticket, DESCRIBE)).Code);
    expect(codes).toEqual(['AuthFailure.SessionInvalid', 'AuthFailure.SessionInvalid', 'Success']);
    sim.setFaults({ forceAuthFailures: 1, forceAuthFailureCode: 'AuthFailure.TokenFailure' });
    expect((await callApi(sim, 'DescribeMaterials', ticket, DESCRIBE)).Code).toBe(
      'AuthFailure.TokenFailure',
    );
    const counters = sim.counters();
    expect(counters.authFailures).toBe(3);
    expect(counters.faults.byKind).toEqual({
      'AuthFailure.SessionInvalid': 2,
      'AuthFailure.TokenFailure': 1,
    });
  });

  it('are reproducible from seedRandom and honour their rate', async () => {
    const run = async (seedRandom: number) => {
      const s = await startCme({ seedRandom, faults: { codeRates: { InternalError: 0.5 } } });
      const ticket = s.issueTicket('u');
      const codes: string[] = [];
      for (let i = 0; i < 40; i++)
        codes.push((await callApi(s, 'DescribeMaterials', ticket, DESCRIBE)).Code);
      await s.close();
      return codes;
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    const failures = first.filter((c) => c === 'InternalError').length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    expect(await run(7)).not.toEqual(first);
  });

  it('apply only to the listed actions, and to the login only when listed', async () => {
    sim = await startCme({
      faults: { codeRates: { InternalError: 1 }, actions: ['DeleteMaterial'] },
    });
    const ticket = sim.issueTicket('u');
    expect((await callApi(sim, 'DescribeMaterials', ticket, DESCRIBE)).Code).toBe('Success');
    expect((await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'x' })).Code).toBe(
      'InternalError',
    );
    const signature = signLogin(loginFields('u'), SECRET_KEY);
    expect((await loginWith(sim, signature)).body.Response).toHaveProperty('Authorization');
    sim.setFaults({ actions: ['Login'] });
    expect((await loginWith(sim, signature)).body).toEqual({
      Response: {
        Error: { Code: 'InternalError', Message: 'internal error' },
        RequestId: expect.any(String),
      },
    });
  });

  it('are set, read and reset through POST/GET/DELETE /__admin/faults', async () => {
    sim = await startCme();
    const ticket = sim.issueTicket('u');
    const set = await admin(sim, 'POST', 'faults', { codeRates: { ResourceInUse: 1 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ codeRates: { ResourceInUse: 1 }, scriptedRemaining: 0 });
    expect((await callApi(sim, 'DescribeMaterials', ticket, DESCRIBE)).Code).toBe('ResourceInUse');
    expect((await admin(sim, 'GET', 'faults')).body).toMatchObject({
      codeRates: { ResourceInUse: 1 },
    });
    expect((await admin(sim, 'DELETE', 'faults')).body).toMatchObject({ codeRates: {} });
    expect((await callApi(sim, 'DescribeMaterials', ticket, DESCRIBE)).Code).toBe('Success');
    const bad = await admin(sim, 'POST', 'faults', { dropRate: 2 });
    expect(bad).toEqual({
      status: 400,
      body: {
        error: { code: 'bad_request', message: 'faults.dropRate must be a number from 0 to 1' },
      },
    });
    expect(() =>
      sim?.setFaults({ codeRates: { InternalError: 0.7, ServiceUnavailable: 0.7 } }),
    ).toThrow(/add up to at most 1/);
  });
});
