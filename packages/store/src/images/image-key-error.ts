import { AtelierError } from '@atelier/shared';

/** A string that is not an image key (`<jobId>/<n>.<ext>`) reached an image store. */
export class ImageKeyError extends AtelierError {
  override name = 'ImageKeyError';

  constructor(key: string) {
    super(`not an image key: ${JSON.stringify(key.slice(0, 300))}`, { code: 'INVALID_IMAGE_KEY' });
  }
}
