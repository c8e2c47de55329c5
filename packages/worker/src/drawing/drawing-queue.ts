import { type DrawingConfig, type ImagesConfig, type Logger, QUEUE_NAMES } from '@atelier/shared';
import { JobFence, openImageStore } from '@atelier/store';
import { QueueKeys } from 'bullmq';
import { ImageArchiver } from '../images/image-archiver.ts';
import { ImageDownloader } from '../images/image-downloader.ts';
import {
  type JobQueueDeps,
  type StartedJobQueue,
  startQueueWorker,
} from '../runtime/queue-worker.ts';
import { applySubmitJournal } from './apply-submit-journal.ts';
import { DrawingClient } from './drawing-client.ts';
import { DrawingHealth } from './drawing-health.ts';
import { DrawingProcessor } from './drawing-processor.ts';
import { LearnedPollTiming } from './learned-poll-timing.ts';
import { MisrouteGuard } from './misroute-guard.ts';
import { PollPlanner } from './poll-planner.ts';
import { SubmitJournal } from './submit-journal.ts';

/**
 * The `drawing` queue: its submit journal (when `ATELIER_JOURNAL_DIR` names one: what it holds
 * is handed to Redis before the worker takes any job), provider client (404/3xx counted by the
 * misroute guard), poll timing, provider health, image archive (when `ATELIER_IMAGE_STORE`
 * names a store) and processor.
 */
export async function startDrawingQueue(
  deps: JobQueueDeps,
  config: DrawingConfig,
  images: ImagesConfig,
  journalDir?: string,
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
  let journal: SubmitJournal | undefined;
  const close = async () => {
    client.close();
    downloader?.close();
    store?.close();
    await timing.close();
    journal?.close();
  };
  try {
    // Before the worker takes any job: what the journal holds is in Redis first.
    journal = journalDir ? await openJournal(journalDir, deps, logger) : undefined;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
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
      ...(journal ? { journal } : {}),
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
    close,
  });
}

/**
 * Opens the submit journal and hands what a previous process left in it to the jobs (each
 * job that has no taskId and has not finished gets its own), then empties it.
 */
async function openJournal(
  dir: string,
  deps: JobQueueDeps,
  logger: Logger,
): Promise<SubmitJournal> {
  const journal = await SubmitJournal.open({ dir, logger });
  try {
    if (journal.entries.length > 0) {
      const keys = new QueueKeys(deps.prefix);
      const applied = await applySubmitJournal(journal.entries, {
        fence: new JobFence(deps.connection, deps.prefix),
        jobKey: (jobId) => keys.toKey(QUEUE_NAMES.drawing, jobId),
        logger,
      });
      logger.info(
        { dir, entries: journal.entries.length, applied },
        'submit journal applied to Redis',
      );
    }
    journal.clear();
    return journal;
  } catch (error) {
    journal.close();
    throw error;
  }
}
