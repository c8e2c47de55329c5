import { type DrawingConfig, QUEUE_NAMES } from '@atelier/shared';
import {
  type JobQueueDeps,
  type StartedJobQueue,
  startQueueWorker,
} from '../runtime/queue-worker.ts';
import { DrawingClient } from './drawing-client.ts';
import { DrawingHealth } from './drawing-health.ts';
import { DrawingProcessor } from './drawing-processor.ts';
import { LearnedPollTiming } from './learned-poll-timing.ts';

/** The `drawing` queue: its provider client, poll timing, provider health and processor. */
export async function startDrawingQueue(
  deps: JobQueueDeps,
  config: DrawingConfig,
): Promise<StartedJobQueue> {
  const { connection: redis, prefix, observer } = deps;
  const logger = deps.logger.child({ queue: QUEUE_NAMES.drawing });
  const provider = DrawingClient.fromConfig(config, {
    logger,
    onCall: (call) => observer.drawingCall?.(call),
  });
  const timing = new LearnedPollTiming({
    redis,
    prefix,
    defaultFirstMs: config.poll.firstMs,
    defaultGapMs: config.poll.intervalMs,
    ceilingMs: config.poll.deadlineMs,
  });
  const health = new DrawingHealth({
    redis,
    prefix,
    logger,
    backoffMs: config.maintenanceBackoffMs,
    streak: config.outageStreak,
    onWindow: (open) => observer.outageWindow?.(open),
  });
  return startQueueWorker({
    deps,
    name: QUEUE_NAMES.drawing,
    processor: new DrawingProcessor({ provider, config, timing, health, observer }),
    concurrency: config.concurrency,
    throttleMs: config.throttleMs,
    credentials: [
      config.authMode,
      config.appKey ?? '',
      config.appSecret?.reveal() ?? '',
      config.appCode?.reveal() ?? '',
    ],
    close: async () => {
      provider.close();
      await timing.close();
    },
  });
}
