import { type CmeConfig, QUEUE_NAMES } from '@atelier/shared';
import {
  type JobQueueDeps,
  type StartedJobQueue,
  startQueueWorker,
} from '../runtime/queue-worker.ts';
import { CmeOperationRunner } from './cme-operation-runner.ts';
import { CmeProcessor } from './cme-processor.ts';

/** Queue-wide pause after a CME throttling answer without its own hint. */
const CME_THROTTLE_MS = 1000;

/** The `cme` queue: its operation runner (tickets, rate limit, client) and processor. */
export async function startCmeQueue(
  deps: JobQueueDeps,
  config: CmeConfig,
): Promise<StartedJobQueue> {
  const { observer } = deps;
  const operations = new CmeOperationRunner({
    redis: deps.connection,
    prefix: deps.prefix,
    config,
    logger: deps.logger.child({ queue: QUEUE_NAMES.cme }),
    onCall: (event) => observer.cmeCall?.(event),
    onRefresh: (event) => observer.ticketRefresh?.(event),
  });
  return startQueueWorker({
    deps,
    name: QUEUE_NAMES.cme,
    processor: new CmeProcessor(operations),
    concurrency: config.concurrency,
    throttleMs: CME_THROTTLE_MS,
    credentials: [
      config.platform ?? '',
      config.secretId?.reveal() ?? '',
      config.secretKey?.reveal() ?? '',
    ],
    close: async () => operations.close(),
  });
}
