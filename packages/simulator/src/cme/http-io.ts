import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { CmeFailure } from './cme-failure.ts';

/** Reads a request body as UTF-8; more than `limitBytes` is `RequestSizeLimitExceeded`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) throw new CmeFailure('RequestSizeLimitExceeded');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

/** A bare HTTP error the way a gateway in front of the service would send it. */
export function sendHttpFault(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
    const html = `<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>nginx</center></body></html>`;
    sendText(res, status, html, 'text/html');
  } else if (typeof body === 'string') {
    sendText(res, status, body);
  } else {
    sendJson(res, status, body);
  }
}

/** An HTTP 200 whose JSON body stops half-way. */
export function sendMalformedJson(res: ServerResponse): void {
  sendText(
    res,
    200,
    '{"Code":"Success","Message":"成功","EnglishMessage":"succ',
    'application/json',
  );
}
