import { createHash, type Hash } from 'node:crypto';
import type { BatchItem } from './batch-item-parser.ts';

/**
 * What a batch is made of, as one SHA-256: its items after validation (defaults applied, fields
 * in schema order, so `{"num":1,…}` and the same item without `num`, or the same items sent as
 * NDJSON, are the same batch) and its options. Kept in the batch record: resubmitting an
 * idempotency key with other content is a conflict, not the same batch.
 */
export class BatchFingerprint {
  readonly #hash: Hash = createHash('sha256');

  /** Items are added in order (the same items in another order are another batch). */
  add(item: BatchItem): void {
    this.#hash.update(JSON.stringify(item));
    this.#hash.update('\n');
  }

  /** The digest, once every item was added: hex SHA-256 over the items, then the options. */
  digest(options: { callbackUrl?: string | undefined; priority: number }): string {
    this.#hash.update(
      JSON.stringify({ callbackUrl: options.callbackUrl ?? null, priority: options.priority }),
    );
    return this.#hash.digest('hex');
  }
}
