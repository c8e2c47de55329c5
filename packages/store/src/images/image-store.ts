import type { Readable } from 'node:stream';

/** What the store knows of an archived image. */
export interface StoredImageInfo {
  bytes: number;
  contentType: string;
  /** Lowercase hex SHA-256, when the store keeps it (S3: object metadata). */
  sha256?: string;
}

/** An archived image being read: its body streams (the caller consumes or destroys it). */
export interface ImageRead extends StoredImageInfo {
  body: Readable;
}

/** What a writer knows of the bytes it stores. */
export interface ImagePutInfo {
  contentType: string;
  sha256: string;
}

/**
 * Where archived images live, by key (`<jobId>/<n>.<ext>`, see `isImageKey`). Writes are
 * atomic (a reader sees the whole image or none) and idempotent (the same key written again
 * with the same bytes changes nothing a reader can see). Keys that are not image keys are
 * refused by every method.
 */
export interface ImageStore {
  /** Where the images go, for logs: `fs:<absolute dir>` or `s3://<bucket>/<prefix>`. */
  readonly location: string;
  put(key: string, body: Buffer, info: ImagePutInfo, signal?: AbortSignal): Promise<void>;
  /** The image's size and type, or undefined when the key holds nothing. */
  head(key: string, signal?: AbortSignal): Promise<StoredImageInfo | undefined>;
  /** The image, streaming, or undefined when the key holds nothing. */
  get(key: string, signal?: AbortSignal): Promise<ImageRead | undefined>;
  /** Releases connections (S3); the store is unusable afterwards. */
  close(): void;
}
