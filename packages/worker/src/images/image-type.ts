import type { ImageExtension } from '@atelier/shared';

/** Bytes `sniffImageType` needs to decide. */
export const IMAGE_SNIFF_BYTES = 12;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const RIFF = [0x52, 0x49, 0x46, 0x46];
const WEBP = [0x57, 0x45, 0x42, 0x50];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return magic.every((byte, i) => bytes[at + i] === byte);
}

/**
 * What the first bytes of a file say it is — PNG, JPEG or WebP — whatever its Content-Type
 * claims; undefined for anything else (or too few bytes to tell).
 */
export function sniffImageType(head: Uint8Array): ImageExtension | undefined {
  if (startsWith(head, PNG)) return 'png';
  if (startsWith(head, JPEG)) return 'jpg';
  if (head.length >= IMAGE_SNIFF_BYTES && startsWith(head, RIFF) && startsWith(head, WEBP, 8)) {
    return 'webp';
  }
  return undefined;
}
