import type { ImageStoreConfig } from '@atelier/shared';
import { FsImageStore } from './fs-image-store.ts';
import type { ImageStore } from './image-store.ts';

/**
 * The image store `ATELIER_IMAGE_STORE` names, or undefined for `none`. The S3 client is
 * loaded only when an S3 store is configured (processes without one never load the AWS SDK).
 */
export async function openImageStore(config: ImageStoreConfig): Promise<ImageStore | undefined> {
  switch (config.kind) {
    case 'none':
      return undefined;
    case 'fs':
      return new FsImageStore(config.dir);
    case 's3': {
      const { S3ImageStore } = await import('./s3-image-store.ts');
      return new S3ImageStore(config);
    }
  }
}
