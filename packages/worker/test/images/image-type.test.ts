import { describe, expect, it } from 'vitest';
import { sniffImageType } from '../../src/images/image-type.ts';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
  );

describe('sniffImageType', () => {
  it.each([
    ['png', bytes([0x89], 'PNG\r\n\x1a\n', 'IHDR')],
    ['jpg', bytes([0xff, 0xd8, 0xff, 0xdb], 'anything')],
    ['webp', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8L')],
  ])('knows %s by its magic bytes', (extension, head) => {
    expect(sniffImageType(head)).toBe(extension);
  });

  it.each([
    ['a PNG signature cut short', bytes([0x89], 'PNG\r\n')],
    ['a PNG signature with a wrong byte', bytes([0x89], 'PNG\r\n\x1a\r', 'IHDR')],
    ['two bytes of JPEG', bytes([0xff, 0xd8])],
    ['RIFF WAVE', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['RIFF without its form type', bytes('RIFF', [0x24, 0, 0, 0])],
    ['GIF', bytes('GIF89a', [1, 0, 1, 0, 0, 0])],
    ['HTML', bytes('<!doctype html><title>')],
    ['nothing', bytes()],
  ])('refuses %s', (_name, head) => {
    expect(sniffImageType(head)).toBeUndefined();
  });
});
