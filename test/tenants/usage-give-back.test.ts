import { createProducer } from '@atelier/producer';
import { createLogger, usageDay } from '@atelier/shared';
import { TenantUsage } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** A worker on the simulator, and tenant acme's producer with a quota of 20 images a day. */
async function setup() {
  const stack = await DrawingStack.start(ctx);
  await stack.startWorker();
  const root = createProducer({
    redisUrl: ctx.url,
    prefix: stack.prefix,
    quotas: { byTenant: { acme: 20 }, fallback: undefined },
    logger: createLogger({ name: 't', level: 'warn' }),
  });
  ctx.onCleanup(() => root.close());
  const acme = root.forTenant('acme');
  const today = usageDay(Date.now());
  const images = async () => (await acme.usage({ from: today, to: today })).days[0]?.images;
  return { stack, acme, images };
}

describe("images never paid for go back to the tenant's day", () => {
  it('a drawing refused at submit gives its images back; one that completed keeps them; a replay counts them again', async () => {
    const { stack, acme, images } = await setup();
    const blocked = 'a picture the provider refuses';
    stack.sim.script(blocked, { submit: [{ code: 202, msg: 'content blocked' }] });

    const refused = await acme.enqueueDrawing({ ...TASK, text: blocked, num: 3 });
    const paid = await acme.enqueueDrawing({ ...TASK, text: 'drawn', num: 2 });
    expect(await images()).toBe(5);
    await stack.dead(refused.id);
    await stack.completed(paid.id);
    await waitFor(async () => ((await images()) === 2 ? true : undefined), {
      what: 'the refused drawing to give its 3 images back',
    });
    expect(stack.logs.text()).toContain('images never paid for given back');
    // The same letter settled again (a repeated finish, a reconciler pass) gives nothing more.
    const day = usageDay(Date.now());
    const again = { id: refused.id, tenant: 'acme', day, images: 3 };
    expect(await new TenantUsage(ctx.connection(), stack.prefix).giveBack(again)).toBe(false);
    expect(await images()).toBe(2);

    // Replayed: it will pay this time (the script is used up), so its images count again.
    await acme.replayDeadLetter(refused.id);
    expect(await images()).toBe(5);
    await stack.completed(refused.id);
    expect(await images()).toBe(5);
  });

  it('a drawing dead after a submit that may have created a task keeps its images (maybe billed)', async () => {
    const { stack, acme, images } = await setup();
    const text = 'an answer lost after the provider processed it';
    stack.sim.script(text, { submit: [{ drop: 'after' }] });
    const { id } = await acme.enqueueDrawing({ ...TASK, text, num: 4 });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('SUBMIT_UNCONFIRMED');
    expect(entry.unconfirmedSubmits).toBe(1);
    expect(await images()).toBe(4);
  });

  it("a batch item refused at submit gives back its own images, to the batch's day", async () => {
    const { stack, acme, images } = await setup();
    const blocked = 'one item the provider refuses';
    stack.sim.script(blocked, { submit: [{ code: 202, msg: 'content blocked' }] });
    const { id } = await acme.createBatch([
      { ...TASK, text: 'fine 1', num: 2 },
      { ...TASK, text: blocked, num: 3 },
      { ...TASK, text: 'fine 2', num: 1 },
    ]);
    expect(await images()).toBe(6);
    await waitFor(
      async () => ((await acme.getBatch(id)).state === 'completed' ? true : undefined),
      {
        what: 'the batch to finish',
      },
    );
    await waitFor(async () => ((await images()) === 3 ? true : undefined), {
      what: "the refused item's 3 images back",
    });
    expect((await acme.getBatch(id)).dead).toBe(1);
  });
});
