import { AtelierWorker, WorkerMetrics } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { CmeStack } from '../support/cme-stack.ts';
import { sample } from '../support/prometheus.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('worker metric labels are bounded', () => {
  it('provider codes the specs do not name reach the code label as "other" (or "<family>.other"), never verbatim', async () => {
    const stack = await CmeStack.start(ctx);
    const [material] = stack.seedMaterials('u1', 1);
    // Unknown codes are retried a little (3 attempts), then dead-lettered with the last one.
    stack.sim.script(
      'DescribeMaterials',
      [1, 2, 3].map((n) => ({ code: `Vendor.InventedCode${n}` })),
    );
    stack.sim.script('ModifyMaterial', [{ code: 'InvalidParameterValue.Colour' }]);
    const metrics = new WorkerMetrics({ defaultMetrics: false });
    const worker = await AtelierWorker.start({
      config: stack.config,
      logger: stack.logs.logger,
      observer: metrics,
    });
    ctx.onCleanup(() => worker.close(0));

    const unknown = await stack.enqueue('u1', 'Material/DescribeMaterials', {
      MaterialIds: [material],
    });
    const family = await stack.enqueue('u1', 'Material/ModifyMaterial', {
      MaterialId: material,
      Name: 'renamed',
    });
    expect((await stack.dead(unknown)).code).toBe('Vendor.InventedCode3');
    expect((await stack.dead(family)).code).toBe('InvalidParameterValue.Colour');

    const text = await metrics.render();
    expect(text).not.toContain('Vendor.InventedCode');
    expect(text).not.toContain('Colour');
    const calls = { provider: 'cme', operation: 'Material/DescribeMaterials' };
    expect(sample(text, 'atelier_provider_calls_total', { ...calls, code: 'other' })).toBe(3);
    expect(
      sample(text, 'atelier_provider_calls_total', {
        provider: 'cme',
        operation: 'Material/ModifyMaterial',
        code: 'InvalidParameterValue.other',
      }),
    ).toBe(1);
    expect(sample(text, 'atelier_dead_letters_total', { queue: 'cme', code: 'other' })).toBe(1);
    expect(
      sample(text, 'atelier_dead_letters_total', {
        queue: 'cme',
        code: 'InvalidParameterValue.other',
      }),
    ).toBe(1);
  });
});
