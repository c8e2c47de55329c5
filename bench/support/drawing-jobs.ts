import {
  DEFAULT_PRIORITY,
  type DrawingJobData,
  defaultJobOptions,
  jobIdFor,
  toBullmqPriority,
} from '@atelier/shared';
import type { Queue } from 'bullmq';

/** A drawing job exactly as the producer adds one (options, priority, id). */
export function drawingJob(i: number, resolution = '1024*1024') {
  const data: DrawingJobData = {
    kind: 'drawing',
    task: { text: `bench ${i}`, style: '油画', resolution, num: 1 },
    meta: { enqueuedAt: Date.now() },
  };
  return {
    name: 'drawing',
    data,
    opts: {
      ...defaultJobOptions('drawing'),
      jobId: jobIdFor('drawing'),
      priority: toBullmqPriority(DEFAULT_PRIORITY.single),
    },
  };
}

/** Adds `count` drawing jobs numbered from `from`, 1000 per `addBulk`. */
export async function addDrawings(queue: Queue, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 1000) {
    const n = Math.min(1000, from + count - i);
    await queue.addBulk(Array.from({ length: n }, (_, k) => drawingJob(i + k)));
  }
}

/** Resolves once the queue has `count` completed jobs (throws after `timeoutMs`). */
export async function untilCompleted(queue: Queue, count: number, timeoutMs = 1_800_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const completed = await queue.getCompletedCount();
    if (completed >= count) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${completed}/${count} completed`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
