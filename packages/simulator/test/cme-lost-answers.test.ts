import { afterEach, describe, expect, it } from 'vitest';
import type { CmeOwner, CmeSimulator } from '../src/index.ts';
import { admin, callRaw, startCme } from './cme-test-support.ts';

const OWNER: CmeOwner = { Type: 'PERSON', Id: 'alice' };
const CREATE = { Platform: '1000000009', Owner: OWNER, ParentClassId: -1, Name: 'Trips' };

let sim: CmeSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const classNames = (s: CmeSimulator) => s.classes(OWNER).map((c) => c.Name);

describe('lost answers: the request is applied, its answer never arrives', () => {
  it('lostAnswerRate applies the call, then resets the connection, and counts AnswerLost', async () => {
    sim = await startCme({ faults: { lostAnswerRate: 1 } });
    const ticket = sim.issueTicket('alice');
    await expect(callRaw(sim, 'CreateClass', ticket, CREATE)).rejects.toThrow(/fetch failed/);
    expect(classNames(sim)).toEqual(['Trips']);
    expect(sim.counters().faults.byKind).toEqual({ AnswerLost: 1 });
  });

  it('a scripted hang (applied) creates the class and never answers: the caller times out', async () => {
    sim = await startCme();
    const ticket = sim.issueTicket('alice');
    sim.script('CreateClass', [{ hang: true, applied: true }]);
    await expect(
      callRaw(sim, 'CreateClass', ticket, CREATE, { signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow(/abort|timeout/i);
    expect(classNames(sim)).toEqual(['Trips']);
    expect(sim.counters().faults.byKind).toEqual({ NoAnswer: 1 });
  });

  it('a scripted hang without applied changes nothing', async () => {
    sim = await startCme();
    const ticket = sim.issueTicket('alice');
    sim.script('CreateClass', [{ hang: true }]);
    await expect(
      callRaw(sim, 'CreateClass', ticket, CREATE, { signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow(/abort|timeout/i);
    expect(classNames(sim)).toEqual([]);
  });

  it('a scripted drop that applied counts as AnswerLost; close() ends a hanging answer', async () => {
    sim = await startCme();
    const ticket = sim.issueTicket('alice');
    sim.script('CreateClass', [{ drop: true, applied: true }, { hang: true }]);
    await expect(callRaw(sim, 'CreateClass', ticket, CREATE)).rejects.toThrow(/fetch failed/);
    const hanging = callRaw(sim, 'CreateClass', ticket, { ...CREATE, Name: 'Other' });
    await expect.poll(() => sim?.counters().faults.byKind.NoAnswer).toBe(1);
    await sim.close();
    await expect(hanging).rejects.toThrow(/fetch failed/);
    expect(sim.counters().faults.byKind).toEqual({ AnswerLost: 1, NoAnswer: 1 });
  });

  it('POST /__admin/script accepts hang and validates lostAnswerRate', async () => {
    sim = await startCme();
    const ok = await admin(sim, 'POST', 'script', {
      match: 'CreateClass',
      answers: [{ hang: true, applied: true }],
    });
    expect(ok.status).toBe(200);
    const bad = await admin(sim, 'POST', 'faults', { lostAnswerRate: 2 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('lostAnswerRate');
  });
});
