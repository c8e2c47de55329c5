import type { Readable } from 'node:stream';
import { type ImageStoreConfig, isImageKey } from '@atelier/shared';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ImageKeyError } from './image-key-error.ts';
import type { ImagePutInfo, ImageRead, ImageStore, StoredImageInfo } from './image-store.ts';

type S3StoreConfig = Extract<ImageStoreConfig, { kind: 's3' }>;

/** Object metadata key of the image's SHA-256 (`x-amz-meta-sha256`). */
const SHA256_METADATA = 'sha256';

/**
 * Images as objects `<prefix>/<jobId>/<n>.<ext>` in one bucket, through `@aws-sdk/client-s3`
 * (AWS or any S3-compatible store). One PutObject per image: S3 makes it visible whole or not
 * at all, and writing the same bytes again is harmless. The SHA-256 rides along as metadata.
 */
export class S3ImageStore implements ImageStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(config: S3StoreConfig) {
    this.#bucket = config.bucket;
    this.#prefix = config.prefix === '' ? '' : `${config.prefix}/`;
    this.location = `s3://${config.bucket}/${config.prefix}`;
    const { accessKeyId, secretAccessKey } = config;
    this.#client = new S3Client({
      region: config.region,
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(accessKeyId !== undefined && secretAccessKey !== undefined
        ? { credentials: { accessKeyId, secretAccessKey: secretAccessKey.reveal() } }
        : {}),
      // The SDK's own quick retries of throttling and 5xx answers within one call; anything
      // slower is the job's retry (BullMQ attempts).
      maxAttempts: 3,
    });
  }

  async put(key: string, body: Buffer, info: ImagePutInfo, signal?: AbortSignal): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#objectKey(key),
        Body: body,
        ContentLength: body.length,
        ContentType: info.contentType,
        Metadata: { [SHA256_METADATA]: info.sha256 },
      }),
      signal ? { abortSignal: signal } : {},
    );
  }

  async head(key: string, signal?: AbortSignal): Promise<StoredImageInfo | undefined> {
    try {
      const answer = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }),
        signal ? { abortSignal: signal } : {},
      );
      return info(answer.ContentLength, answer.ContentType, answer.Metadata);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async get(key: string, signal?: AbortSignal): Promise<ImageRead | undefined> {
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }),
        signal ? { abortSignal: signal } : {},
      );
      // In Node the SDK's body is an `IncomingMessage` (a Readable) with helper methods mixed in.
      const body = answer.Body as Readable | undefined;
      if (body === undefined) return undefined;
      return { ...info(answer.ContentLength, answer.ContentType, answer.Metadata), body };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  close(): void {
    this.#client.destroy();
  }

  #objectKey(key: string): string {
    if (!isImageKey(key)) throw new ImageKeyError(key);
    return `${this.#prefix}${key}`;
  }
}

function info(
  bytes: number | undefined,
  contentType: string | undefined,
  metadata: Record<string, string> | undefined,
): StoredImageInfo {
  const sha256 = metadata?.[SHA256_METADATA];
  return {
    bytes: bytes ?? 0,
    contentType: contentType ?? 'application/octet-stream',
    ...(sha256 !== undefined ? { sha256 } : {}),
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
}
