import { type ArchivedImage, imageKeyFor, imageUrlFor } from '@atelier/shared';
import type { ImageStore } from '@atelier/store';
import { ImageArchiveError } from './image-archive-error.ts';
import type { DownloadedImage } from './image-downloader.ts';

/** Where images come from (`ImageDownloader` implements it). */
export interface ImageSource {
  download(url: string, signal?: AbortSignal): Promise<DownloadedImage>;
}

export interface ArchiveOptions {
  signal?: AbortSignal;
  /** Images an earlier run archived (job state): kept when the store still holds them. */
  known?: readonly ArchivedImage[];
  /** Called after each newly stored image with every image archived so far (to save progress). */
  onProgress?: (archived: ArchivedImage[]) => Promise<void>;
}

/**
 * Copies a finished task's images into the image store, one at a time (at most one image of a
 * job is in memory), as `<jobId>/<n>.<ext>`. Idempotent: an image already archived is only
 * checked (HEAD), and storing one again writes the same key with the same bytes.
 */
export class ImageArchiver {
  readonly #store: ImageStore;
  readonly #source: ImageSource;

  constructor(store: ImageStore, source: ImageSource) {
    this.#store = store;
    this.#source = source;
  }

  get location(): string {
    return this.#store.location;
  }

  /** Every image of `urls`, in order; throws `ImageArchiveError` (or the abort reason). */
  async archive(
    jobId: string,
    urls: readonly string[],
    options: ArchiveOptions = {},
  ): Promise<ArchivedImage[]> {
    const { signal } = options;
    const archived: ArchivedImage[] = [];
    for (const [index, url] of urls.entries()) {
      const known = await this.#stillStored(jobId, index, options.known?.[index], signal);
      if (known !== undefined) {
        archived.push(known);
        continue;
      }
      const image = await this.#source.download(url, signal).catch((error: unknown) => {
        throw error instanceof ImageArchiveError ? error.forImage(index) : error;
      });
      archived.push(await this.#put(jobId, index, image, signal));
      await options.onProgress?.([...archived]);
    }
    return archived;
  }

  /** An image an earlier run recorded, if the store still has it whole. */
  async #stillStored(
    jobId: string,
    index: number,
    known: ArchivedImage | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ArchivedImage | undefined> {
    if (known === undefined || !known.key.startsWith(`${jobId}/${index}.`)) return undefined;
    const stored = await this.#store.head(known.key, signal).catch((error: unknown) => {
      throw storeFailure(index, 'checking', error, signal);
    });
    return stored?.bytes === known.bytes ? known : undefined;
  }

  async #put(
    jobId: string,
    index: number,
    image: DownloadedImage,
    signal: AbortSignal | undefined,
  ): Promise<ArchivedImage> {
    const key = imageKeyFor(jobId, index, image.extension);
    await this.#store
      .put(key, image.body, { contentType: image.contentType, sha256: image.sha256 }, signal)
      .catch((error: unknown) => {
        throw storeFailure(index, 'storing', error, signal);
      });
    return {
      key,
      url: imageUrlFor(key),
      bytes: image.body.length,
      sha256: image.sha256,
      contentType: image.contentType,
    };
  }
}

function storeFailure(
  index: number,
  doing: string,
  error: unknown,
  signal: AbortSignal | undefined,
): unknown {
  if (signal?.aborted) return signal.reason;
  const message = error instanceof Error ? error.message : String(error);
  return new ImageArchiveError('store', `${doing} the image in the store failed: ${message}`, {
    cause: error,
  }).forImage(index);
}
