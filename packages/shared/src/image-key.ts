/** The image formats the archive accepts, by file extension. */
export const IMAGE_CONTENT_TYPES = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
} as const;

export type ImageExtension = keyof typeof IMAGE_CONTENT_TYPES;
export type ImageContentType = (typeof IMAGE_CONTENT_TYPES)[ImageExtension];

/**
 * `<jobId>/<n>.<ext>`: one segment of job-id characters (`@` of a tenant's ids included) that
 * does not start with a dot (so
 * never `.` or `..`), one slash, the image number and a known extension. Nothing else can
 * name an archived image, so a key is always safe as a file path and as an object key.
 */
const IMAGE_KEY = /^([A-Za-z0-9_~-][A-Za-z0-9_.~@-]{0,199})\/(0|[1-9]\d{0,2})\.(png|jpg|webp)$/;

/** The archive key of image `index` (0-based) of a job. */
export function imageKeyFor(jobId: string, index: number, extension: ImageExtension): string {
  const key = `${jobId}/${index}.${extension}`;
  if (!isImageKey(key)) throw new RangeError(`cannot make an image key from job id "${jobId}"`);
  return key;
}

export function isImageKey(key: string): boolean {
  return IMAGE_KEY.test(key);
}

/** The Content-Type of a valid key's image (undefined for anything that is not a key). */
export function imageKeyContentType(key: string): ImageContentType | undefined {
  const extension = IMAGE_KEY.exec(key)?.[3] as ImageExtension | undefined;
  return extension === undefined ? undefined : IMAGE_CONTENT_TYPES[extension];
}

/** Where Atelier's HTTP API serves an archived image (relative to the API's origin). */
export function imageUrlFor(key: string): string {
  return `/v1/images/${key}`;
}
