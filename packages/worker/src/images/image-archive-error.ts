import { AtelierError } from '@atelier/shared';

/**
 * Why an image could not be archived. `too_large`, `wrong_type`, `address_refused` and
 * `bad_url` will not change by trying again; `http_status`, `network` and `store` may.
 */
export type ImageArchiveFailure =
  | 'too_large'
  | 'wrong_type'
  | 'address_refused'
  | 'bad_url'
  | 'http_status'
  | 'network'
  | 'store';

const FINAL: ReadonlySet<ImageArchiveFailure> = new Set([
  'too_large',
  'wrong_type',
  'address_refused',
  'bad_url',
]);

/**
 * One image of a finished drawing could not be downloaded or stored: code
 * `IMAGE_ARCHIVE_FAILED`, `details.reason` says why (and `details.index` which image).
 * Retryable unless the reason is final. Never carries the image URL's path or query (signed
 * URLs): only its origin.
 */
export class ImageArchiveError extends AtelierError {
  override name = 'ImageArchiveError';
  readonly reason: ImageArchiveFailure;

  constructor(
    reason: ImageArchiveFailure,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, {
      code: 'IMAGE_ARCHIVE_FAILED',
      retryable: !FINAL.has(reason),
      details: { reason, ...options.details },
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.reason = reason;
  }

  /** The same failure, told about image `index` of the task. */
  forImage(index: number): ImageArchiveError {
    return new ImageArchiveError(this.reason, `image ${index}: ${this.message}`, {
      ...(this.cause !== undefined ? { cause: this.cause } : {}),
      details: { ...this.details, index },
    });
  }
}
