import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrawingSimulator } from '../src/index.ts';
import { json, postForm, TASK } from './drawing-http.ts';

let sim: DrawingSimulator;
beforeAll(async () => {
  sim = await DrawingSimulator.start({ numericTaskIds: true, taskIdDigits: 22 });
});
afterAll(() => sim.close());

describe('numeric taskIds', () => {
  it('carries the id as a bare JSON number with every digit, and queries by the digit string', async () => {
    const answer = await postForm(sim.submitUrl, TASK);
    const match = /"data":\{"taskId":(\d+)\}/.exec(answer.text);
    expect(match?.[1]).toMatch(/^\d{22}$/);
    const digits = match?.[1] as string;
    // What a naive JSON.parse does to it: the digits do not survive.
    expect(String(BigInt(json(answer).data.taskId))).not.toBe(digits);

    const queried = json(await postForm(sim.queryUrl, { taskId: digits }));
    expect(queried).toMatchObject({ code: 200, data: { status: 0 } });
    expect(sim.queriesFor(digits)).toBe(1);
  });
});
