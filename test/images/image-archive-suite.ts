import { createHash } from 'node:crypto';
import type { ArchivedImage } from '@atelier/shared';
import { DrawingSimulator } from '@atelier/simulator';
import type { ImageStore } from '@atelier/store';
import { ImageArchiver, ImageDownloader } from '@atelier/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simulatorTask } from '../support/simulator-task.ts';
import { waitFor } from '../support/wait-for.ts';

/** A store under test and a look at what it holds underneath (files or objects). */
export interface StoreUnderTest {
  store: ImageStore;
  /** Every name the backend holds (relative to the store's root/prefix), temporary ones too. */
  listAll(): Promise<string[]>;
  close(): Promise<void>;
}

const TASK = { text: 'a red fox in the snow', style: '水彩画', resolution: '1024*1024', num: 2 };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function bytesOf(store: ImageStore, key: string): Promise<Buffer | undefined> {
  const read = await store.get(key);
  if (read === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The image archive against one backend: byte-exact round trip through a real download,
 * the size cap and the type check (nothing stored), idempotent re-archiving, resuming.
 */
export function imageArchiveSuite(backend: string, open: () => Promise<StoreUnderTest>): void {
  describe(`image archive on ${backend}`, () => {
    let sim: DrawingSimulator;
    let under: StoreUnderTest;
    let downloader: ImageDownloader;
    const archiver = (maxBytes = 1024 * 1024) => {
      downloader?.close();
      downloader = new ImageDownloader({ maxBytes, timeoutMs: 10_000, allowPrivate: true });
      return new ImageArchiver(under.store, downloader);
    };

    beforeEach(async () => {
      sim = await DrawingSimulator.start({ duration: { kind: 'fixed', ms: 0 } });
      under = await open();
    });
    afterEach(async () => {
      downloader?.close();
      await under.close();
      await sim.close();
    });

    it('stores every image byte for byte under <jobId>/<n>.png, with its size, type and SHA-256', async () => {
      const { urls } = await simulatorTask(sim, TASK);
      const served = await Promise.all(
        urls.map(async (url) => Buffer.from(await (await fetch(url)).arrayBuffer())),
      );
      const archived = await archiver().archive('dr_fox-1', urls);

      expect(archived).toEqual(
        served.map((bytes, n) => ({
          key: `dr_fox-1/${n}.png`,
          url: `/v1/images/dr_fox-1/${n}.png`,
          bytes: bytes.length,
          sha256: sha256(bytes),
          contentType: 'image/png',
        })),
      );
      for (const [n, image] of archived.entries()) {
        const stored = await bytesOf(under.store, image.key);
        expect(stored?.equals(served[n] as Buffer)).toBe(true);
        expect(await under.store.head(image.key)).toMatchObject({
          bytes: image.bytes,
          contentType: 'image/png',
        });
      }
      expect((await under.listAll()).sort()).toEqual(['dr_fox-1/0.png', 'dr_fox-1/1.png']);
    });

    it('archiving again writes the same keys and bytes; known images are only checked', async () => {
      const { urls } = await simulatorTask(sim, TASK);
      const first = await archiver().archive('dr_fox-2', urls);
      const downloads = sim.counters().imageDownloads;

      const again = await archiver().archive('dr_fox-2', urls);
      expect(again).toEqual(first);
      expect(sim.counters().imageDownloads).toBe(downloads + 2);
      for (const image of again)
        expect(sha256((await bytesOf(under.store, image.key)) ?? Buffer.alloc(0))).toBe(
          image.sha256,
        );

      const resumed = await archiver().archive('dr_fox-2', urls, { known: first });
      expect(resumed).toEqual(first);
      expect(sim.counters().imageDownloads).toBe(downloads + 2);
      expect((await under.listAll()).sort()).toEqual(['dr_fox-2/0.png', 'dr_fox-2/1.png']);
    });

    it('resumes after the first image: downloads only the rest, reporting progress per image', async () => {
      const { urls } = await simulatorTask(sim, { ...TASK, num: 3 });
      const progress: ArchivedImage[][] = [];
      const all = await archiver().archive('dr_fox-3', urls, {
        onProgress: async (so_far) => {
          progress.push(so_far);
        },
      });
      expect(progress.map((p) => p.length)).toEqual([1, 2, 3]);
      const downloads = sim.counters().imageDownloads;

      const resumed = await archiver().archive('dr_fox-3', urls, { known: progress[0] });
      expect(resumed).toEqual(all);
      expect(sim.counters().imageDownloads).toBe(downloads + 2);
    });

    it('downloads a known image again when the store no longer holds it', async () => {
      const { urls } = await simulatorTask(sim, { ...TASK, num: 1 });
      const other = await simulatorTask(sim, { ...TASK, text: 'never archived', num: 1 });
      const recorded = await archiver().archive('dr_elsewhere', other.urls);
      // A record pointing at a key of another job is not trusted either.
      const archived = await archiver().archive('dr_fox-4', urls, { known: recorded });
      expect(archived[0]?.key).toBe('dr_fox-4/0.png');
      expect(await under.store.head('dr_fox-4/0.png')).toBeDefined();
    });

    it('refuses an image over the cap while it streams and stores nothing', async () => {
      const { urls } = await simulatorTask(sim, { ...TASK, num: 1 });
      sim.setFaults({ image: { kind: 'oversized', bytes: 600_000 } });
      await expect(archiver(100_000).archive('dr_big', urls)).rejects.toMatchObject({
        code: 'IMAGE_ARCHIVE_FAILED',
        retryable: false,
        details: { reason: 'too_large', index: 0, maxBytes: 100_000 },
        message: expect.stringContaining('over ATELIER_IMAGE_MAX_BYTES (100000)'),
      });
      expect(await under.store.head('dr_big/0.png')).toBeUndefined();
      expect(await under.listAll()).toEqual([]);
    });

    it('refuses what is not a PNG, JPEG or WebP and stores nothing', async () => {
      const { urls } = await simulatorTask(sim, { ...TASK, num: 1 });
      sim.setFaults({ image: { kind: 'wrong-type' } });
      const failure = archiver().archive('dr_html', urls);
      await expect(failure).rejects.toMatchObject({
        code: 'IMAGE_ARCHIVE_FAILED',
        retryable: false,
        details: { reason: 'wrong_type', index: 0 },
      });
      await expect(failure).rejects.toThrow(
        /not a PNG, JPEG or WebP image \(it starts with 3c21646f/,
      );
      expect(await under.listAll()).toEqual([]);
    });

    it('an HTTP error is a retryable failure', async () => {
      const { urls } = await simulatorTask(sim, { ...TASK, num: 1 });
      sim.setFaults({ image: { kind: 'http', status: 503 } });
      await expect(archiver().archive('dr_503', urls)).rejects.toMatchObject({
        code: 'IMAGE_ARCHIVE_FAILED',
        retryable: true,
        details: { reason: 'http_status', httpStatus: 503, index: 0 },
      });
    });

    it('an aborted archive throws the abort reason and leaves no partial image', async () => {
      const { urls } = await simulatorTask(sim, { ...TASK, num: 1 });
      sim.setFaults({ delayMs: 0, image: { kind: 'oversized', bytes: 50_000_000 } });
      const controller = new AbortController();
      const reason = new Error('shutdown');
      const running = archiver(100_000_000).archive('dr_abort', urls, {
        signal: controller.signal,
      });
      // Abort while the body is streaming (the server has started answering).
      await waitFor(() => sim.counters().imageDownloads === 1, { what: 'the download to start' });
      controller.abort(reason);
      await expect(running).rejects.toBe(reason);
      expect(await under.listAll()).toEqual([]);
    });

    it('refuses keys that are not image keys, before touching the backend', async () => {
      await expect(under.store.get('../outside.png')).rejects.toMatchObject({
        code: 'INVALID_IMAGE_KEY',
      });
      await expect(under.store.head('dr_a/../../x.png')).rejects.toMatchObject({
        code: 'INVALID_IMAGE_KEY',
      });
      await expect(
        under.store.put('/etc/x.png', Buffer.from('x'), { contentType: 'image/png', sha256: '' }),
      ).rejects.toMatchObject({ code: 'INVALID_IMAGE_KEY' });
      expect(await under.store.get('dr_missing/0.png')).toBeUndefined();
      expect(await under.store.head('dr_missing/0.png')).toBeUndefined();
    });
  });
}
