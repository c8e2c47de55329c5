import type { ServerResponse } from 'node:http';
import type { DrawingImageFault } from './drawing-faults.ts';

const WRONG_TYPE_BODY = '<!doctype html><title>Not Found</title><h1>The image has expired</h1>';
const PADDING_CHUNK = 64 * 1024;

/** Serves an image, or what an image fault says to serve in its place. */
export function sendImage(
  res: ServerResponse,
  image: Buffer,
  fault: DrawingImageFault | null,
  headOnly: boolean,
): void {
  if (fault === null) {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length });
    res.end(headOnly ? undefined : image);
    return;
  }
  switch (fault.kind) {
    case 'wrong-type':
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(WRONG_TYPE_BODY),
      });
      res.end(headOnly ? undefined : WRONG_TYPE_BODY);
      return;
    case 'http':
      res.writeHead(fault.status, { 'content-length': 0 });
      res.end();
      return;
    case 'stall':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length });
      if (headOnly) res.end();
      else res.write(image.subarray(0, Math.min(16, image.length)));
      return;
    case 'oversized':
      res.writeHead(200, {
        'content-type': 'image/png',
        ...(fault.declared ? { 'content-length': Math.max(fault.bytes, image.length) } : {}),
      });
      if (headOnly) res.end();
      else sendPadded(res, image, fault.bytes);
      return;
  }
}

/** The image, then zero bytes up to `bytes` in all (a PNG decoder ignores what follows IEND). */
function sendPadded(res: ServerResponse, image: Buffer, bytes: number): void {
  let left = Math.max(0, bytes - image.length);
  const zeros = Buffer.alloc(Math.min(PADDING_CHUNK, Math.max(1, left)));
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= zeros.length ? zeros : zeros.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.write(image);
  pump();
}
