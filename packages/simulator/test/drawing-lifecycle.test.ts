import { afterEach, describe, expect, it } from 'vitest';
import { DrawingSimulator, type DrawingSimulatorOptions } from '../src/index.ts';
import { json, postForm, TASK } from './drawing-http.ts';

const START = Date.UTC(2024, 0, 1, 0, 0, 0);
let simulator: DrawingSimulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

/** A simulator on a hand-driven clock: tests move time, nothing sleeps. */
async function startAt(options: DrawingSimulatorOptions = {}) {
  const clock = { nowMs: START };
  simulator = await DrawingSimulator.start({ clock: () => clock.nowMs, ...options });
  return { sim: simulator, clock };
}

async function submit(sim: DrawingSimulator, fields: Record<string, string | number> = TASK) {
  const answer = json(await postForm(sim.submitUrl, fields));
  expect(answer.code).toBe(200);
  return answer.data.taskId as string;
}

async function query(sim: DrawingSimulator, taskId: string) {
  return json(await postForm(sim.queryUrl, { taskId }));
}

describe('drawing simulator lifecycle', () => {
  it('answers submit then pending then done at exactly the drawn duration', async () => {
    const { sim, clock } = await startAt({ duration: { kind: 'fixed', ms: 4_000 } });
    const submitted = await postForm(sim.submitUrl, TASK);
    expect(submitted.status).toBe(200);
    expect(submitted.headers.get('content-type')).toMatch(/^application\/json/);
    const body = json(submitted);
    expect(body).toMatchObject({ code: 200, msg: '成功', data: { taskId: expect.any(String) } });
    expect(body.taskNo).toMatch(/^\d{24}$/);
    const taskId = body.data.taskId as string;
    expect(taskId).toMatch(/^\d{19}$/);

    const pending = await query(sim, taskId);
    expect(pending).toMatchObject({
      code: 200,
      msg: '成功',
      data: { status: 0, waiting: 4, img: '', imgUrls: [], createTime: '2024-01-01 08:00:00' },
    });

    clock.nowMs = START + 3_999;
    expect((await query(sim, taskId)).data).toMatchObject({ status: 0, waiting: 1 });

    clock.nowMs = START + 4_000;
    const done = await query(sim, taskId);
    const image = `${sim.url}/images/${taskId}/0.png`;
    expect(done).toEqual({
      code: 200,
      msg: '成功',
      taskNo: expect.stringMatching(/^\d{24}$/),
      data: { img: image, imgUrls: [{ image }], createTime: '2024-01-01 08:00:00', status: 1 },
    });
    const png = await fetch(image);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('draws num images and takes longer per extra image', async () => {
    const { sim, clock } = await startAt({
      duration: { kind: 'fixed', ms: 1_000 },
      perExtraImageMs: 500,
      includeWaiting: false,
    });
    const taskId = await submit(sim, { ...TASK, num: 3 });
    clock.nowMs = START + 1_999;
    const pending = await query(sim, taskId);
    expect(pending.data.status).toBe(0);
    expect(pending.data).not.toHaveProperty('waiting');
    clock.nowMs = START + 2_000;
    const done = await query(sim, taskId);
    expect(done.data.status).toBe(1);
    expect(done.data.imgUrls.map((u: { image: string }) => u.image)).toEqual(
      [0, 1, 2].map((i) => `${sim.url}/images/${taskId}/${i}.png`),
    );
    expect((await fetch(`${sim.url}/images/${taskId}/3.png`)).status).toBe(404);
  });

  it('queues tasks behind a finite upstream concurrency', async () => {
    const { sim } = await startAt({
      duration: { kind: 'fixed', ms: 2_000 },
      upstreamConcurrency: 1,
    });
    const first = await submit(sim);
    const second = await submit(sim);
    expect((await query(sim, first)).data.waiting).toBe(2);
    expect((await query(sim, second)).data.waiting).toBe(4);
  });

  it('is reproducible from its seed', async () => {
    const run = async (seed: number) => {
      const { sim } = await startAt({ seed });
      const ids = [await submit(sim), await submit(sim)];
      const waits = [
        (await query(sim, ids[0] as string)).data.waiting,
        (await query(sim, ids[1] as string)).data.waiting,
      ];
      await sim.close();
      return { ids, waits };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b).toEqual(a);
    expect(c.ids).not.toEqual(a.ids);
  });

  it('closes promptly with keep-alive sockets and a delayed answer outstanding', async () => {
    const { sim } = await startAt();
    await submit(sim); // leaves a keep-alive connection open in fetch's pool
    sim.setFaults({ delayMs: 60_000 });
    const hanging = postForm(sim.submitUrl, TASK);
    await expect.poll(() => sim.counters().submits).toBe(2);
    const started = performance.now();
    await sim.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(hanging).rejects.toThrow();
  });
});
