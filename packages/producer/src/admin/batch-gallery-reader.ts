import { batchItemJobId } from '@atelier/shared';
import {
  type BatchInfo,
  type BatchItemResult,
  BatchLedger,
  type RedisClient,
} from '@atelier/store';
import type { JobState } from '../lib/job-status.ts';
import type { Producer } from '../lib/producer.ts';
import { ADMIN_PATHS } from './admin-paths.ts';
import { maskString } from './mask-secrets.ts';

/** Items shown per page of a batch's gallery. */
export const GALLERY_PAGE_SIZE = 48;

/** One item of a batch as its gallery shows it. */
export interface GalleryItem {
  index: number;
  jobId: string;
  /**
   * The result line's state (`not_queued`: its batch's enqueue was cut off before it), or —
   * pending — the job's own (queued, polling, …).
   */
  state: JobState | 'pending' | 'not_queued';
  /** Where its thumbnail comes from: the archive (a dashboard route) or the provider's URL. */
  thumbnail?: { src: string; from: 'archive' | 'provider' };
  /** Images of the item (archived, or the provider's). */
  images: number;
  /** Why it is dead (or cancelled), or its last transient failure. */
  error?: { code: string; message: string };
}

export interface GalleryPage {
  batch: BatchInfo;
  items: GalleryItem[];
  /** 1-based. */
  page: number;
  pages: number;
}

/**
 * A page of a batch's items for the dashboard: the batch record and the page's result lines in
 * one read (`BatchLedger.page`), and each pending item's own status (one snapshot each).
 * Archived images are served by the dashboard's own image route (its session, not an API key);
 * a provider URL is shown only when nothing in it looks like a credential.
 */
export class BatchGalleryReader {
  readonly #ledger: BatchLedger;
  readonly #producer: Producer;

  constructor(options: { redis: RedisClient; prefix: string; producer: Producer }) {
    this.#ledger = new BatchLedger(options.redis, options.prefix);
    this.#producer = options.producer;
  }

  /** `undefined`: no such batch. `page` is clamped to the batch's pages. */
  async read(id: string, page: number): Promise<GalleryPage | undefined> {
    const head = await this.#ledger.get(id);
    if (!head) return undefined;
    const pages = Math.max(1, Math.ceil(head.total / GALLERY_PAGE_SIZE));
    const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
    const from = (current - 1) * GALLERY_PAGE_SIZE;
    const count = Math.min(GALLERY_PAGE_SIZE, head.total - from);
    const read = await this.#ledger.page(id, from, count);
    if (!read) return undefined;
    const items = await Promise.all(read.lines.map((line, i) => this.#item(id, from + i, line)));
    return { batch: read.batch, items, page: current, pages };
  }

  async #item(id: string, index: number, line: BatchItemResult | undefined): Promise<GalleryItem> {
    const jobId = line?.jobId ?? batchItemJobId(id, index);
    if (!line || line.state === 'pending') return this.#pending(index, jobId);
    const item: GalleryItem = { index, jobId, state: line.state, images: 0 };
    if (line.code !== undefined) {
      item.error = { code: line.code, message: maskString(line.message ?? '') };
    }
    if (line.state === 'cancelled') {
      item.error = { code: 'CANCELLED', message: 'stopped before it was submitted: nothing paid' };
    }
    const archived = line.archived ?? [];
    const provider = line.images ?? [];
    item.images = archived.length > 0 ? archived.length : provider.length;
    const first = archived[0];
    if (first) {
      item.thumbnail = { src: `${ADMIN_PATHS.images}/${first.key}`, from: 'archive' };
    } else if (provider[0] !== undefined && isShowable(provider[0])) {
      item.thumbnail = { src: provider[0], from: 'provider' };
    }
    return item;
  }

  async #pending(index: number, jobId: string): Promise<GalleryItem> {
    const status = await this.#producer.getJob(jobId).catch(() => undefined);
    const item: GalleryItem = { index, jobId, state: status?.state ?? 'pending', images: 0 };
    if (status?.error) item.error = { ...status.error, message: maskString(status.error.message) };
    return item;
  }
}

/** An http(s) URL with nothing in it that looks like a credential (so masking changes nothing). */
function isShowable(url: string): boolean {
  return /^https?:\/\//i.test(url) && maskString(url) === url;
}
