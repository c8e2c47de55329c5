import { createHash } from 'node:crypto';
import { encodePng } from './encode-png.ts';

/** Side of a drawn image in pixels, and of one of its cells. */
const SIZE = 128;
const CELL = 16;
const CELLS = SIZE / CELL;

/** What a drawn image is made from: the task's request and the image's place in it. */
export interface DrawnImageSeed {
  text: string;
  style: string;
  resolution: string;
  /** 0-based image number within the task. */
  index: number;
}

/**
 * The simulator's "drawing": a small PNG, the same bytes for the same request and image
 * number, different for a different prompt. An 8×8 pattern, mirrored left to right, in two
 * colours, all taken from the SHA-256 of the request (like an identicon).
 */
export function drawnImage(seed: DrawnImageSeed): Buffer {
  const hash = createHash('sha256')
    .update(`${seed.text}\n${seed.style}\n${seed.resolution}\n${seed.index}`, 'utf8')
    .digest();
  const foreground = [hash[0] ?? 0, hash[1] ?? 0, hash[2] ?? 0];
  // The background is a pale tint of the foreground, so the pattern shows.
  const background = foreground.map((c) => 255 - Math.round((255 - c) * 0.15));
  const rgb = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    const row = Math.floor(y / CELL);
    for (let x = 0; x < SIZE; x++) {
      const column = Math.floor(x / CELL);
      const mirrored = column < CELLS / 2 ? column : CELLS - 1 - column;
      const bit = row * (CELLS / 2) + mirrored; // 0..31
      const on = ((hash[4 + (bit >> 3)] ?? 0) >> (bit & 7)) & 1;
      const colour = on ? foreground : background;
      const at = (y * SIZE + x) * 3;
      rgb[at] = colour[0] ?? 0;
      rgb[at + 1] = colour[1] ?? 0;
      rgb[at + 2] = colour[2] ?? 0;
    }
  }
  return encodePng(SIZE, SIZE, rgb);
}
