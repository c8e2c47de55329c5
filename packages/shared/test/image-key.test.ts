import { describe, expect, it } from 'vitest';
import { imageKeyContentType, imageKeyFor, imageUrlFor, isImageKey } from '../src/index.ts';

describe('image keys', () => {
  it('names image n of a job <jobId>/<n>.<ext>, for every kind of job id', () => {
    expect(imageKeyFor('dr_order-42', 0, 'png')).toBe('dr_order-42/0.png');
    expect(imageKeyFor('dr_b_import-7~12', 5, 'webp')).toBe('dr_b_import-7~12/5.webp');
    expect(imageKeyFor('dr~Zm9vYmFy_-x', 1, 'jpg')).toBe('dr~Zm9vYmFy_-x/1.jpg');
    expect(imageKeyFor('dr_0b2c1f0e-8a5b-4c8e-9d7e-2f1a3b4c5d6e', 0, 'png')).toMatch(/\/0\.png$/);
    expect(imageUrlFor('dr_a/0.png')).toBe('/v1/images/dr_a/0.png');
  });

  it.each([
    '../etc/passwd',
    '..%2F0.png',
    '../0.png',
    './0.png',
    '.hidden/0.png',
    'dr_a/../0.png',
    'dr_a/0.png/',
    '/dr_a/0.png',
    'dr_a//0.png',
    'dr_a/b/0.png',
    'dr_a\\0.png',
    'dr_a/00.png',
    'dr_a/1000.png',
    'dr_a/0.gif',
    'dr_a/0.PNG',
    'dr a/0.png',
    'dr_a:1/0.png',
    'dr_a/0.png\n',
    '',
  ])('refuses %j', (key) => {
    expect(isImageKey(key)).toBe(false);
    expect(imageKeyContentType(key)).toBeUndefined();
  });

  it('reads the content type from the extension', () => {
    expect(imageKeyContentType('dr_a/0.png')).toBe('image/png');
    expect(imageKeyContentType('dr_a/1.jpg')).toBe('image/jpeg');
    expect(imageKeyContentType('dr_a/2.webp')).toBe('image/webp');
  });

  it('refuses to make a key from a job id that could escape its folder', () => {
    expect(() => imageKeyFor('..', 0, 'png')).toThrow(/job id/);
    expect(() => imageKeyFor('a/b', 0, 'png')).toThrow(/job id/);
  });
});
