import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { imageKeyContentType, isImageKey } from '@atelier/shared';
import { ImageKeyError } from './image-key-error.ts';
import type { ImagePutInfo, ImageRead, ImageStore, StoredImageInfo } from './image-store.ts';

/**
 * Images as files under one directory, `<dir>/<jobId>/<n>.<ext>`. A write goes to a temporary
 * file beside its target (flushed to disk), then is renamed over it: readers see the old file
 * or the new one, never a part. The content type is the key's extension.
 */
export class FsImageStore implements ImageStore {
  readonly location: string;
  readonly #root: string;

  constructor(dir: string) {
    this.#root = resolve(dir);
    this.location = `fs:${this.#root}`;
  }

  async put(key: string, body: Buffer, _info: ImagePutInfo, signal?: AbortSignal): Promise<void> {
    const path = this.#path(key);
    signal?.throwIfAborted();
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const file = await open(temporary, 'wx');
      try {
        await file.writeFile(body, signal ? { signal } : {});
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async head(key: string): Promise<StoredImageInfo | undefined> {
    const path = this.#path(key);
    const found = await stat(path).catch(ifMissing(undefined));
    if (found === undefined || !found.isFile()) return undefined;
    return { bytes: found.size, contentType: contentTypeOf(key) };
  }

  async get(key: string): Promise<ImageRead | undefined> {
    const path = this.#path(key);
    const file = await open(path, 'r').catch(ifMissing(undefined));
    if (file === undefined) return undefined;
    try {
      const found = await file.stat();
      if (!found.isFile()) {
        await file.close();
        return undefined;
      }
      // The stream owns the handle from here: it closes it when it ends or is destroyed.
      return {
        bytes: found.size,
        contentType: contentTypeOf(key),
        body: file.createReadStream({ autoClose: true }),
      };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  close(): void {}

  #path(key: string): string {
    if (!isImageKey(key)) throw new ImageKeyError(key);
    const path = resolve(this.#root, key);
    // Image keys cannot climb out of the root; this keeps it so whatever a key grows into.
    if (!path.startsWith(`${this.#root}${sep}`)) throw new ImageKeyError(key);
    return path;
  }
}

function contentTypeOf(key: string): string {
  return imageKeyContentType(key) ?? 'application/octet-stream';
}

function ifMissing<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return value;
    throw error;
  };
}
