import {
  DEFAULT_PRIORITY,
  type DrawingTask,
  defaultJobOptions,
  jobIdFor,
  toBullmqPriority,
} from '@atelier/shared';
import { AtelierWorker, WorkerMetrics } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { sample } from '../support/prometheus.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('a worker without ATELIER_CALLBACK_SECRET', () => {
  it('warns at start-up, and logs and counts every callback it cannot send', async () => {
    const stack = await DrawingStack.start(ctx);
    expect(stack.config.callbacks.secret).toBeUndefined();
    const metrics = new WorkerMetrics({ defaultMetrics: false });
    const worker = await AtelierWorker.start({
      config: stack.config,
      logger: stack.logs.logger,
      observer: metrics,
    });
    ctx.onCleanup(() => worker.close(0));
    const logLines = () => stack.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const startup = logLines().find((l) => String(l.msg).startsWith('CALLBACKS DISABLED'));
    expect(startup?.level).toBe(40);

    const enqueue = async (task: Partial<DrawingTask>, callbackUrl?: string) => {
      const id = jobIdFor('drawing');
      await stack.queue.add(
        'drawing',
        {
          kind: 'drawing',
          task: { ...TASK, ...task },
          meta: { enqueuedAt: Date.now(), ...(callbackUrl ? { callbackUrl } : {}) },
        },
        {
          ...defaultJobOptions('drawing'),
          jobId: id,
          priority: toBullmqPriority(DEFAULT_PRIORITY.single),
        },
      );
      return id;
    };
    const hook = 'https://hooks.example.com/atelier?token=t0p-s3cret';
    const done = await enqueue({}, hook);
    const dead = await enqueue({ style: 'no such style' }, hook);
    const quiet = await enqueue({});
    await stack.completed(done);
    await stack.dead(dead);
    await stack.completed(quiet);

    const unsent = logLines().filter((l) => String(l.msg).startsWith('callback NOT sent'));
    const seen = unsent.map((l) => [l.level, l.jobId, l.event]);
    expect(seen.sort((a, b) => String(a[2]).localeCompare(String(b[2])))).toEqual([
      [40, done, 'job.completed'],
      [40, dead, 'job.dead'],
    ]);
    expect(stack.logs.text()).not.toContain('t0p-s3cret');
    const text = await metrics.render();
    expect(sample(text, 'atelier_callbacks_unsent_total', { event: 'job.completed' })).toBe(1);
    expect(sample(text, 'atelier_callbacks_unsent_total', { event: 'job.dead' })).toBe(1);
  });
});
