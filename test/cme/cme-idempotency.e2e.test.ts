import type { CmeOwner } from '@atelier/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { CmeStack } from '../support/cme-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const OWNER: CmeOwner = { Type: 'PERSON', Id: 'u1' };
const CREATE = { Owner: OWNER, ParentClassId: -1, Name: 'Trips' };
const FAST_STALLS = { lockDuration: 1000, stalledInterval: 300 };

const classesNamed = (stack: CmeStack, name: string) =>
  stack.sim.classes(OWNER).filter((c) => c.Name === name);
const creates = (stack: CmeStack) =>
  stack.sim.counters().apiCalls.byAction['Material/CreateClass'] ?? 0;

describe('CME retries after a lost answer do not repeat what already happened', () => {
  it('CreateClass whose answer was lost after the class was made (reset): completes with that class, no second create', async () => {
    const stack = await CmeStack.start(ctx);
    stack.sim.script('CreateClass', [{ drop: true, applied: true }]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/CreateClass', CREATE);

    const job = await stack.completed(id);
    const [made] = classesNamed(stack, 'Trips');
    expect(classesNamed(stack, 'Trips')).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({
      action: 'Material/CreateClass',
      outcome: 'done',
      alreadyCreated: true,
      data: { ClassId: made?.ClassId },
    });
    expect(creates(stack)).toBe(1);
    expect(job.data.history?.map((h) => h.code)).toEqual(['NETWORK']);
  });

  it('CreateClass that timed out with the class made (no answer at all): completes with that class', async () => {
    const stack = await CmeStack.start(ctx, { env: { CME_REQUEST_TIMEOUT_MS: '400' } });
    stack.sim.script('CreateClass', [{ hang: true, applied: true }]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/CreateClass', CREATE);

    const job = await stack.completed(id);
    expect(classesNamed(stack, 'Trips')).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({ alreadyCreated: true });
    expect(job.returnvalue.data).toEqual({ ClassId: classesNamed(stack, 'Trips')[0]?.ClassId });
    expect(creates(stack)).toBe(1);
  });

  it('CreateClass whose lost attempt made nothing is sent again and completes normally', async () => {
    const stack = await CmeStack.start(ctx);
    stack.sim.script('CreateClass', [{ drop: true }]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/CreateClass', CREATE);

    const job = await stack.completed(id);
    expect(classesNamed(stack, 'Trips')).toHaveLength(1);
    expect(job.returnvalue.alreadyCreated).toBeUndefined();
    expect(job.returnvalue.data).toEqual({ ClassId: classesNamed(stack, 'Trips')[0]?.ClassId });
    expect(creates(stack)).toBe(2);
  });

  it('CreateClass sent again and refused because its earlier send landed meanwhile (a late answer): completes with that class', async () => {
    const stack = await CmeStack.start(ctx);
    // The first send is lost unapplied; the second finds the name taken by the time it arrives
    // (applied, then refused): the check before it saw nothing, the one after it finds the class.
    stack.sim.script('CreateClass', [
      { drop: true },
      { code: 'InvalidParameterValue.Name', englishMessage: 'class name exists', applied: true },
    ]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/CreateClass', CREATE);

    const job = await stack.completed(id);
    expect(classesNamed(stack, 'Trips')).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({ alreadyCreated: true });
    expect(creates(stack)).toBe(2);
  });

  it('a first CreateClass refused because the name is taken is still dead-lettered (not mistaken for ours)', async () => {
    const stack = await CmeStack.start(ctx);
    stack.sim.seed({ classes: [{ owner: OWNER, name: 'Trips' }] });
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/CreateClass', CREATE);

    expect((await stack.dead(id)).code).toBe('InvalidParameterValue.Name');
    expect(classesNamed(stack, 'Trips')).toHaveLength(1);
  });

  it('a worker killed while its CreateClass hangs (the class made): the stalled job checks, and completes with that class', async () => {
    const stack = await CmeStack.start(ctx);
    stack.sim.script('CreateClass', [{ hang: true, applied: true }]);
    const child = await startChildWorker({
      ...stack.env,
      TEST_LOCK_DURATION_MS: String(FAST_STALLS.lockDuration),
      TEST_STALLED_INTERVAL_MS: String(FAST_STALLS.stalledInterval),
    });
    ctx.onCleanup(() => child.kill());
    const id = await stack.enqueue('u1', 'Material/CreateClass', CREATE);
    await waitFor(
      async () =>
        classesNamed(stack, 'Trips').length === 1 &&
        (await (await stack.queue.getJob(id))?.getState()) === 'active',
      { what: 'the create to be applied while the job is still active' },
    );

    // The job recorded the create before sending it (that is how the next run knows to check).
    expect((await stack.queue.getJob(id))?.data.state?.createSentAt).toBeGreaterThan(0);
    await child.kill();
    await stack.startWorker(FAST_STALLS);

    const job = await stack.completed(id);
    expect(classesNamed(stack, 'Trips')).toHaveLength(1);
    expect(job.returnvalue).toMatchObject({ alreadyCreated: true });
    expect(creates(stack)).toBe(1);
  });

  it('DeleteClass whose answer was lost after the class was deleted: completes as already gone', async () => {
    const stack = await CmeStack.start(ctx);
    const [made] = stack.sim.seed({ classes: [{ owner: OWNER, name: 'Old' }] }).classIds;
    stack.sim.script('DeleteClass', [{ drop: true, applied: true }]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/DeleteClass', { Owner: OWNER, ClassId: made });

    const job = await stack.completed(id);
    expect(job.returnvalue).toMatchObject({ outcome: 'already-gone', alreadyGone: true });
    expect(classesNamed(stack, 'Old')).toHaveLength(0);
  });

  it('DeleteMaterial whose answer was lost after the material was deleted: completes as already gone', async () => {
    const stack = await CmeStack.start(ctx);
    const [material] = stack.seedMaterials('u1', 1);
    stack.sim.script('DeleteMaterial', [{ drop: true, applied: true }]);
    await stack.startWorker();
    const id = await stack.enqueue('u1', 'Material/DeleteMaterial', { MaterialId: material });

    expect((await stack.completed(id)).returnvalue).toMatchObject({ outcome: 'already-gone' });
  });

  it('ModifyClass and ModifyMaterial whose answers were lost are simply sent again (same end state)', async () => {
    const stack = await CmeStack.start(ctx);
    const [made] = stack.sim.seed({ classes: [{ owner: OWNER, name: 'Before' }] }).classIds;
    const [material] = stack.seedMaterials('u1', 1);
    stack.sim.script('ModifyClass', [{ drop: true, applied: true }]);
    stack.sim.script('ModifyMaterial', [{ drop: true, applied: true }]);
    await stack.startWorker();
    const modifyClass = await stack.enqueue('u1', 'Material/ModifyClass', {
      Owner: OWNER,
      ClassId: made,
      Name: 'After',
    });
    const modifyMaterial = await stack.enqueue('u1', 'Material/ModifyMaterial', {
      MaterialId: material,
      Name: 'renamed',
    });

    expect((await stack.completed(modifyClass)).returnvalue.outcome).toBe('done');
    expect((await stack.completed(modifyMaterial)).returnvalue.outcome).toBe('done');
    expect(classesNamed(stack, 'After')).toHaveLength(1);
    expect(
      stack.sim.materials().find((m) => m.BasicInfo.MaterialId === material)?.BasicInfo.Name,
    ).toBe('renamed');
  });
});
