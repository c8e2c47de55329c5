import { createHash } from 'node:crypto';
import { Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import {
  type HostResolver,
  IMAGE_CONTENT_TYPES,
  type ImageContentType,
  type ImageExtension,
  type ImagesConfig,
  isPrivateAddress,
} from '@atelier/shared';
import got, { type Got, RequestError } from 'got';
import { ADDRESS_REFUSED, createGuardedLookup } from '../callbacks/guarded-lookup.ts';
import { ImageArchiveError } from './image-archive-error.ts';
import { IMAGE_SNIFF_BYTES, sniffImageType } from './image-type.ts';

export interface ImageDownloaderOptions {
  /** Largest image accepted; a longer one is cut off as soon as it passes this. */
  maxBytes: number;
  /** Whole download of one URL (each redirect hop has its own). */
  timeoutMs: number;
  /** Allow private, loopback and link-local addresses (`ATELIER_IMAGE_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** How host names become addresses (tests); default the operating system's resolver. */
  resolve?: HostResolver;
  /** Redirects followed per image (default 5). */
  maxRedirects?: number;
  /** Default `atelier-worker`. */
  userAgent?: string;
}

/** A downloaded image, checked: within the cap and, by its first bytes, a PNG, JPEG or WebP. */
export interface DownloadedImage {
  body: Buffer;
  sha256: string;
  extension: ImageExtension;
  contentType: ImageContentType;
}

type Fetched = { kind: 'image'; image: DownloadedImage } | { kind: 'redirect'; location: string };

/**
 * Downloads provider images behind one `got` instance: the callback address guard at connect
 * time (and on IP-literal URLs before it), redirects followed by hand so every hop is
 * guarded, the size cap enforced while the body streams (and on a declared Content-Length
 * before it), the type decided by the first bytes, SHA-256 computed on the way. No got
 * retries: a failed download is an `ImageArchiveError`, retried (or not) by the job.
 */
export class ImageDownloader {
  readonly #got: Got;
  readonly #agents: { http: HttpAgent; https: HttpsAgent };
  readonly #maxBytes: number;
  readonly #allowPrivate: boolean;
  readonly #maxRedirects: number;

  constructor(options: ImageDownloaderOptions) {
    this.#maxBytes = options.maxBytes;
    this.#allowPrivate = options.allowPrivate;
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#agents = {
      http: new HttpAgent({ keepAlive: true }),
      https: new HttpsAgent({ keepAlive: true }),
    };
    this.#got = got.extend({
      agent: this.#agents,
      http2: false,
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      timeout: { request: options.timeoutMs },
      dnsLookup: createGuardedLookup({
        allowPrivate: options.allowPrivate,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      }),
      headers: {
        'user-agent': options.userAgent ?? 'atelier-worker',
        accept: Object.values(IMAGE_CONTENT_TYPES).join(', '),
      },
    });
  }

  static fromConfig(images: ImagesConfig): ImageDownloader {
    return new ImageDownloader({
      maxBytes: images.maxBytes,
      timeoutMs: images.timeoutMs,
      allowPrivate: images.allowPrivate,
    });
  }

  /** The image at `url`; throws `ImageArchiveError`, or the abort reason when `signal` aborts. */
  async download(url: string, signal?: AbortSignal): Promise<DownloadedImage> {
    let current = url;
    for (let hop = 0; ; hop++) {
      signal?.throwIfAborted();
      const target = this.#checkUrl(current);
      const fetched = await this.#fetch(target, signal);
      if (fetched.kind === 'image') return fetched.image;
      if (hop >= this.#maxRedirects) {
        throw new ImageArchiveError(
          'bad_url',
          `more than ${this.#maxRedirects} redirects from ${originOf(url)}`,
        );
      }
      current = new URL(fetched.location, target).href;
    }
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  /** http(s) only; an IP-literal host is checked here, as it never reaches the guarded lookup. */
  #checkUrl(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ImageArchiveError('bad_url', 'the image URL is not an absolute URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ImageArchiveError(
        'bad_url',
        `the image URL's scheme ${parsed.protocol} is not http(s)`,
      );
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!this.#allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
      throw refused(parsed.origin);
    }
    return parsed;
  }

  #fetch(url: URL, signal: AbortSignal | undefined): Promise<Fetched> {
    const maxBytes = this.#maxBytes;
    const origin = url.origin;
    return new Promise<Fetched>((resolve, reject) => {
      const request = this.#got.stream(url, signal ? { signal } : {});
      const chunks: Buffer[] = [];
      const hash = createHash('sha256');
      let received = 0;
      let extension: ImageExtension | undefined;
      let settled = false;
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        action();
      };
      const fail = (error: unknown) =>
        settle(() => {
          request.destroy();
          reject(error);
        });

      request.once('response', (response: { statusCode: number; headers: IncomingHttpHeaders }) => {
        const { statusCode, headers } = response;
        if (statusCode >= 300 && statusCode < 400 && statusCode !== 304) {
          const location = headers.location;
          if (!location) {
            fail(
              new ImageArchiveError(
                'bad_url',
                `${origin} answered ${statusCode} without a Location`,
              ),
            );
            return;
          }
          settle(() => {
            request.destroy();
            resolve({ kind: 'redirect', location });
          });
          return;
        }
        if (statusCode < 200 || statusCode >= 300) {
          fail(
            new ImageArchiveError('http_status', `${origin} answered HTTP ${statusCode}`, {
              details: { httpStatus: statusCode },
            }),
          );
          return;
        }
        const declared = Number(headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes)
          fail(tooLarge(origin, declared, maxBytes));
      });

      request.on('data', (chunk: Buffer) => {
        if (settled) return;
        received += chunk.length;
        if (received > maxBytes) {
          fail(tooLarge(origin, received, maxBytes, true));
          return;
        }
        chunks.push(chunk);
        hash.update(chunk);
        if (extension === undefined && received >= IMAGE_SNIFF_BYTES) {
          extension = sniffImageType(chunks.length === 1 ? chunk : Buffer.concat(chunks));
          if (extension === undefined) fail(wrongType(origin, chunks));
        }
      });

      request.once('end', () => {
        const body = Buffer.concat(chunks, received);
        extension ??= sniffImageType(body);
        if (extension === undefined) {
          fail(wrongType(origin, chunks));
          return;
        }
        const image: DownloadedImage = {
          body,
          sha256: hash.digest('hex'),
          extension,
          contentType: IMAGE_CONTENT_TYPES[extension],
        };
        settle(() => resolve({ kind: 'image', image }));
      });

      request.once('error', (error: Error) => {
        if (signal?.aborted) {
          fail(signal.reason);
          return;
        }
        fail(transportFailure(origin, error));
      });
    });
  }
}

function refused(origin: string): ImageArchiveError {
  return new ImageArchiveError(
    'address_refused',
    `${origin} is a private or loopback address (set ATELIER_IMAGE_ALLOW_PRIVATE=true to allow it)`,
  );
}

function tooLarge(origin: string, bytes: number, maxBytes: number, streaming = false) {
  const size = streaming ? `more than ${maxBytes} bytes` : `${bytes} bytes`;
  return new ImageArchiveError(
    'too_large',
    `the image from ${origin} is ${size}, over ATELIER_IMAGE_MAX_BYTES (${maxBytes})`,
    { details: { maxBytes } },
  );
}

function wrongType(origin: string, chunks: Buffer[]) {
  const head = Buffer.concat(chunks).subarray(0, IMAGE_SNIFF_BYTES);
  return new ImageArchiveError(
    'wrong_type',
    `the file from ${origin} is not a PNG, JPEG or WebP image (it starts with ${head.toString('hex') || 'nothing'})`,
  );
}

function transportFailure(origin: string, error: Error): ImageArchiveError {
  const code = error instanceof RequestError ? error.code : undefined;
  if (code === ADDRESS_REFUSED) return refused(origin);
  return new ImageArchiveError('network', `downloading from ${origin} failed: ${error.message}`, {
    cause: error,
    ...(code !== undefined ? { details: { errno: code } } : {}),
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}
