import type { ArchivedImage, DrawingTask } from '@atelier/shared';
import type { BatchItemResult, BatchLedger, DeadLetterStore } from '@atelier/store';
import { batchResults } from './batch-results.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

/** Jobs read at once (one round trip each, sent together on the connection). */
const PAGE = 200;
/** A page of job reads is a bulk read: it may take longer than one command. */
const PAGE_TIMEOUT_MS = 10_000;

/** One batch item with its request and its archived images. */
export interface BatchItemImages {
  index: number;
  jobId: string;
  state: BatchItemResult['state'];
  /**
   * The drawing request, while its job (or, for a dead item, its dead letter) is kept: see
   * `ATELIER_KEEP_COMPLETED_AGE_SEC`; undefined after that.
   */
  task?: DrawingTask;
  /** The item's archived images (`result.archived`); empty when none are (yet, or at all). */
  archived: ArchivedImage[];
}

export interface BatchImagesDeps {
  readonly ledger: BatchLedger;
  readonly queues: ProducerQueues;
  readonly deadLetters: DeadLetterStore;
  readonly guard: RedisGuard;
}

/**
 * Every item of a batch in input order with its request and archived images: the batch's
 * result lines, each joined with its job (read a page at a time). Throws `NotFoundError` for
 * an unknown batch.
 */
export async function* batchImages(
  deps: BatchImagesDeps,
  id: string,
): AsyncGenerator<BatchItemImages> {
  let page: BatchItemResult[] = [];
  for await (const line of batchResults(deps.ledger, deps.guard, id)) {
    page.push(line);
    if (page.length === PAGE) {
      yield* await withJobs(deps, page);
      page = [];
    }
  }
  if (page.length > 0) yield* await withJobs(deps, page);
}

async function withJobs(
  deps: BatchImagesDeps,
  lines: BatchItemResult[],
): Promise<BatchItemImages[]> {
  const { queues, deadLetters, guard } = deps;
  return guard.run(
    () =>
      Promise.all(
        lines.map(async (line): Promise<BatchItemImages> => {
          const job = await queues.drawing.getJob(line.jobId);
          let task = job?.data.task;
          if (task === undefined && line.state === 'dead') {
            task = (await deadLetters.get(line.jobId))?.request as DrawingTask | undefined;
          }
          return {
            index: line.index,
            jobId: line.jobId,
            state: line.state,
            ...(task !== undefined ? { task } : {}),
            // The line carries them (lines from before it did: the job's result, while kept).
            archived:
              line.state === 'completed' ? (line.archived ?? job?.returnvalue?.archived ?? []) : [],
          };
        }),
      ),
    PAGE_TIMEOUT_MS,
  );
}
