import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostResolver } from '@atelier/shared';
import { ImageDownloader, type ImageDownloaderOptions } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('rest of a png'),
]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(20, 7)]);
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0x10, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(8),
]);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server whose answers the test writes; counts requests and bytes sent. */
class ImageServer {
  readonly #server: Server;
  requests = 0;
  connections = 0;
  bytesSent = 0;
  closed = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(handler: Handler): Promise<ImageServer> {
    const server = createServer();
    const self = new ImageServer(server);
    server.on('connection', () => self.connections++);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      self.requests++;
      res.on('close', () => {
        self.closed = true;
      });
      handler(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return self;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path = '/image'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Streams `total` bytes (a PNG head, then zeros) in 64 KiB writes, honouring backpressure. */
  stream(res: ServerResponse, total: number): void {
    res.writeHead(200, { 'content-type': 'image/png' });
    const chunk = Buffer.alloc(64 * 1024);
    PNG.copy(chunk);
    const pump = () => {
      while (this.bytesSent < total && !res.destroyed) {
        this.bytesSent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function serve(handler: Handler): Promise<ImageServer> {
  const server = await ImageServer.start(handler);
  open.push(server);
  return server;
}

function downloader(options: Partial<ImageDownloaderOptions> = {}): ImageDownloader {
  const created = new ImageDownloader({
    maxBytes: 100_000,
    timeoutMs: 5_000,
    allowPrivate: true,
    ...options,
  });
  open.push(created);
  return created;
}

const loopbackFor =
  (...names: string[]): HostResolver =>
  async (hostname) => {
    if (!names.includes(hostname))
      throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address: '127.0.0.1', family: 4 }];
  };

describe('ImageDownloader', () => {
  it('cuts an oversized body off while it streams, long before the server has sent it', async () => {
    const server = await serve((_req, res) => server.stream(res, 64 * 1024 * 1024));
    await expect(downloader({ maxBytes: 100_000 }).download(server.url())).rejects.toMatchObject({
      code: 'IMAGE_ARCHIVE_FAILED',
      details: { reason: 'too_large' },
      message: expect.stringContaining('more than 100000 bytes'),
    });
    await waitFor(() => server.closed, { what: 'the server to see the connection closed' });
    // Whatever the socket buffers held, nowhere near the 64 MiB the server meant to send.
    expect(server.bytesSent).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a declared Content-Length over the cap before any of the body arrives', async () => {
    const server = await serve((_req, res) => {
      // Declares 50 MB and never sends a byte of it: only the header can end this download.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 50_000_000 });
      res.flushHeaders();
    });
    await expect(downloader({ timeoutMs: 30_000 }).download(server.url())).rejects.toMatchObject({
      details: { reason: 'too_large' },
      message: expect.stringContaining('is 50000000 bytes, over ATELIER_IMAGE_MAX_BYTES (100000)'),
    });
  });

  it('accepts an image exactly at the cap', async () => {
    const body = Buffer.concat([PNG, Buffer.alloc(100_000 - PNG.length)]);
    const server = await serve((_req, res) => res.end(body));
    const image = await downloader({ maxBytes: 100_000 }).download(server.url());
    expect(image.body.equals(body)).toBe(true);
  });

  it.each([
    ['PNG', PNG, 'png', 'image/png'],
    ['JPEG', JPEG, 'jpg', 'image/jpeg'],
    ['WebP', WEBP, 'webp', 'image/webp'],
  ])(
    'takes a %s by its first bytes, whatever the Content-Type says',
    async (_name, body, extension, type) => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(body);
      });
      const image = await downloader().download(server.url());
      expect(image).toMatchObject({ extension, contentType: type });
      expect(image.body.equals(body)).toBe(true);
      expect(image.sha256).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it.each([
    ['HTML labelled image/png', Buffer.from('<html><body>expired</body></html>')],
    ['an empty body', Buffer.alloc(0)],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00')],
    ['RIFF that is not WebP', Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ')],
  ])('refuses %s', async (_name, body) => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(body);
    });
    await expect(downloader().download(server.url())).rejects.toMatchObject({
      code: 'IMAGE_ARCHIVE_FAILED',
      retryable: false,
      details: { reason: 'wrong_type' },
    });
  });

  it('refuses loopback addresses unless allowed: an IP literal before connecting, a name at connect time', async () => {
    const server = await serve((_req, res) => res.end(PNG));
    const guarded = downloader({
      allowPrivate: false,
      resolve: loopbackFor('images.test', 'localhost'),
    });
    for (const url of [
      server.url(),
      `http://localhost:${server.port}/image`,
      `http://images.test:${server.port}/image`,
      `http://[::ffff:127.0.0.1]:${server.port}/image`,
    ]) {
      await expect(guarded.download(url)).rejects.toMatchObject({
        code: 'IMAGE_ARCHIVE_FAILED',
        retryable: false,
        details: { reason: 'address_refused' },
        message: expect.stringContaining('ATELIER_IMAGE_ALLOW_PRIVATE'),
      });
    }
    expect(server.connections).toBe(0);

    const allowed = downloader({ allowPrivate: true, resolve: loopbackFor('images.test') });
    const image = await allowed.download(`http://images.test:${server.port}/image`);
    expect(image.body.equals(PNG)).toBe(true);
  });

  it('follows redirects, each hop through the guard, and gives up on a loop', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: '/image' }).end();
      else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end();
      else if (req.url === '/nowhere') res.writeHead(302).end();
      else res.end(PNG);
    });
    const image = await downloader().download(server.url('/moved'));
    expect(image.body.equals(PNG)).toBe(true);
    await expect(downloader().download(server.url('/loop'))).rejects.toMatchObject({
      retryable: false,
      details: { reason: 'bad_url' },
      message: expect.stringContaining('more than 5 redirects'),
    });
    await expect(downloader().download(server.url('/nowhere'))).rejects.toMatchObject({
      details: { reason: 'bad_url' },
    });
  });

  it('a redirect to a loopback address is refused when private addresses are not allowed', async () => {
    const target = await serve((_req, res) => res.end(PNG));
    const front = await serve((_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/image` }).end(),
    );
    // The first hop goes by a name the test resolves; its redirect names a loopback literal.
    const guarded = downloader({
      allowPrivate: false,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expect(guarded.download(`http://front.test:${front.port}/`)).rejects.toMatchObject({
      details: { reason: 'address_refused' },
    });
    expect(target.requests).toBe(0);
  });

  it('an HTTP error status, a timeout and a refused connection are retryable', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/gone') res.writeHead(404).end();
      // '/slow' never answers.
    });
    await expect(downloader().download(server.url('/gone'))).rejects.toMatchObject({
      retryable: true,
      details: { reason: 'http_status', httpStatus: 404 },
    });
    await expect(
      downloader({ timeoutMs: 200 }).download(server.url('/slow')),
    ).rejects.toMatchObject({
      retryable: true,
      details: { reason: 'network', errno: 'ETIMEDOUT' },
    });
    const port = server.port;
    await server.close();
    await expect(downloader().download(`http://127.0.0.1:${port}/image`)).rejects.toMatchObject({
      retryable: true,
      details: { reason: 'network', errno: 'ECONNREFUSED' },
    });
  });

  it('refuses URLs that are not http(s), never saying more of the URL than its origin', async () => {
    await expect(downloader().download('ftp://files.test/a.png')).rejects.toMatchObject({
      details: { reason: 'bad_url' },
    });
    await expect(downloader().download('not a url')).rejects.toMatchObject({
      details: { reason: 'bad_url' },
    });
    const server = await serve((_req, res) => res.writeHead(500).end());
    const failure = downloader().download(server.url('/signed.png?Signature=s3cr3t&Expires=1'));
    await expect(failure).rejects.toThrow(`http://127.0.0.1:${server.port} answered HTTP 500`);
    await expect(failure).rejects.not.toThrow(/s3cr3t|signed\.png/);
  });
});
