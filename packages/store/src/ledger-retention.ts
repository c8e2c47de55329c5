import type { RetentionOptions } from '@atelier/shared';

/**
 * The ledger's retention from the deployment's: finished batches kept `batchAgeSec`; a keyed
 * batch's id refused after that for as long as its items' jobs or dead letters may be kept.
 */
export function ledgerRetention(retention: Required<RetentionOptions>) {
  return {
    finishedAgeSec: retention.batchAgeSec,
    keyReuseBlockedSec: Math.max(
      retention.deadLetterAgeSec,
      retention.failedAgeSec,
      retention.completedAgeSec,
    ),
  };
}
