import { type DrawingConfig, type ImagesConfig, QUEUE_NAMES } from '@atelier/shared';
import { openImageStore } from '@atelier/store';
import { ImageArchiver } from '../images/image-archiver.ts';
import { ImageDownloader } from '../images/image-downloader.ts';
import {
  type JobQueueDeps,
  type StartedJobQueue,
  startQueueWorker,
} from '../runtime/queue-worker.ts';
import { DrawingClient } from './drawing-client.ts';
import { DrawingHealth } from './drawing-health.ts';
import { DrawingProcessor } from './drawing-processor.ts';
import { LearnedPollTiming } from './learned-poll-timing.ts';
import { MisrouteGuard } from './misroute-guard.ts';
import { PollPlanner } from './poll-planner.ts';

/**
 * The `drawing` queue: its provider client (404/3xx counted by the misroute guard), poll timing,
 * provider health, image archive (when `ATELIER_IMAGE_STORE` names a store) and processor.
 */
export async function startDrawingQueue(
  deps: JobQueueDeps,
  config: DrawingConfig,
  images: ImagesConfig,
): Promise<StartedJobQueue> {
  const { connection: redis, prefix, observer } = deps;
  const logger = deps.logger.child({ queue: QUEUE_NAMES.drawing });
  // First: the only step that can fail before anything needs closing.
  const store = await openImageStore(images.store);
  const downloader = store ? ImageDownloader.fromConfig(images) : undefined;
  const archiver = store && downloader ? new ImageArchiver(store, downloader) : undefined;
  const client = DrawingClient.fromConfig(config, {
    logger,
    onCall: (call) => observer.drawingCall?.(call),
  });
  const timing = new LearnedPollTiming({ redis, prefix, schedule: config.poll, logger });
  const health = new DrawingHealth({
    redis,
    prefix,
    logger,
    backoffMs: config.maintenanceBackoffMs,
    streak: config.outageStreak,
    onWindow: (open) => observer.outageWindow?.(open),
  });
  const provider = new MisrouteGuard({
    provider: client,
    health,
    logger,
    minCount: config.misrouteStreak,
    minMs: config.misrouteMinMs,
  });
  logger.info(
    archiver
      ? { images: archiver.location, maxBytes: images.maxBytes, allowPrivate: images.allowPrivate }
      : { images: 'none' },
    archiver ? 'images are archived before a drawing completes' : 'images are not archived',
  );
  return startQueueWorker({
    deps,
    name: QUEUE_NAMES.drawing,
    processor: new DrawingProcessor({
      provider,
      config,
      planner: new PollPlanner({ timing, schedule: config.poll }),
      health,
      observer,
      ...(archiver ? { archiver } : {}),
    }),
    concurrency: config.concurrency,
    throttleMs: config.throttleMs,
    // A worker started with other credentials or another endpoint resumes a halted queue.
    credentials: [
      config.baseUrl ?? '',
      config.submitPath ?? '',
      config.queryPath ?? '',
      config.authMode,
      config.appKey ?? '',
      config.appSecret?.reveal() ?? '',
      config.appCode?.reveal() ?? '',
    ],
    close: async () => {
      client.close();
      downloader?.close();
      store?.close();
      await timing.close();
    },
  });
}
