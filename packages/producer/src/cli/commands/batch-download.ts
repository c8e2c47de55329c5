import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { ArchivedImage } from '@atelier/shared';
import { type ImageStore, openImageStore } from '@atelier/store';
import type { BatchItemImages } from '../../lib/batch-images.ts';
import { type CliIo, EXIT } from '../cli-io.ts';
import { ProgressBar } from '../progress-bar.ts';
import { UsageError } from '../usage-error.ts';

const USAGE = 'usage: atelier batch download <id> --dir <folder> [--parallel N]';
export const MANIFEST = 'manifest.jsonl';

/** One line of `manifest.jsonl`: an item, the files saved for it, their SHA-256 in order. */
export interface ManifestLine {
  index: number;
  prompt: string | null;
  style: string | null;
  state: BatchItemImages['state'];
  files: string[];
  sha256: string[];
}

interface Tally {
  saved: number;
  present: number;
  failed: number;
  pending: number;
  dead: number;
  cancelled: number;
  settled: number;
}

/**
 * `batch download <id> --dir <folder>`: every archived image of the batch as
 * `<index>-<n>.<ext>` and a `manifest.jsonl` (one line per item, input order). Resumable: a
 * file already there with the right SHA-256 is kept; a download is checked against the hash
 * the worker recorded before it takes its name. Items not finished yet are listed as
 * `pending` with no files: run it again later for the rest.
 */
export async function batchDownload(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { dir: { type: 'string' }, parallel: { type: 'string', default: '8' } },
  });
  const [id] = positionals;
  if (id === undefined || positionals.length > 1 || values.dir === undefined) {
    throw new UsageError(USAGE);
  }
  const parallel = Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    throw new UsageError(`--parallel must be an integer in 1..64, got "${values.parallel}"`);
  }
  const dir = values.dir;
  const env = await io.open();
  const store = await openImageStore(env.config.images.store);
  try {
    if (store === undefined) {
      io.stderr.write(
        'batch download reads the image archive: set ATELIER_IMAGE_STORE to the store the workers use\n',
      );
      return EXIT.failure;
    }
    const { total } = await env.producer.getBatch(id);
    await mkdir(dir, { recursive: true });
    const tally: Tally = {
      saved: 0,
      present: 0,
      failed: 0,
      pending: 0,
      dead: 0,
      cancelled: 0,
      settled: 0,
    };
    const bar = new ProgressBar(io.stderr);
    const manifestPart = join(dir, `${MANIFEST}.${randomBytes(4).toString('hex')}.part`);
    const manifest = createWriteStream(manifestPart);
    try {
      // Items are fetched `parallel` at a time; their manifest lines are written in order.
      const running: Array<Promise<ManifestLine>> = [];
      const writeNext = async () => {
        const line = await (running.shift() as Promise<ManifestLine>);
        if (!manifest.write(`${JSON.stringify(line)}\n`)) await once(manifest, 'drain');
        tally.settled++;
        bar.update({ total, completed: tally.settled - tally.dead, dead: tally.dead });
      };
      for await (const item of env.producer.batchImages(id)) {
        running.push(saveItem(store, dir, item, tally, io));
        if (running.length >= parallel) await writeNext();
      }
      while (running.length > 0) await writeNext();
      manifest.end();
      await finished(manifest);
    } catch (error) {
      manifest.destroy();
      await rm(manifestPart, { force: true });
      throw error;
    }
    await rename(manifestPart, join(dir, MANIFEST));
    bar.finish();
    io.stderr.write(`${summary(id, dir, tally)}\n`);
    io.stdout.write(`${join(dir, MANIFEST)}\n`);
    return tally.failed > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    store?.close();
    await env.producer.close();
  }
}

async function saveItem(
  store: ImageStore,
  dir: string,
  item: BatchItemImages,
  tally: Tally,
  io: CliIo,
): Promise<ManifestLine> {
  if (item.state === 'pending') tally.pending++;
  if (item.state === 'dead') tally.dead++;
  if (item.state === 'cancelled') tally.cancelled++;
  const files: string[] = [];
  const hashes: string[] = [];
  for (const [n, image] of item.archived.entries()) {
    const name = `${item.index}-${n}.${extensionOf(image)}`;
    const outcome = await saveImage(store, join(dir, name), image).catch((error: unknown) => {
      io.stderr.write(
        `\nitem ${item.index}: ${image.key}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return 'failed' as const;
    });
    tally[outcome]++;
    if (outcome === 'failed') continue;
    files.push(name);
    hashes.push(image.sha256);
  }
  return {
    index: item.index,
    prompt: item.task?.text ?? null,
    style: item.task?.style ?? null,
    state: item.state,
    files,
    sha256: hashes,
  };
}

/** `present` when the file is already there with the right hash, else downloads it. */
async function saveImage(
  store: ImageStore,
  path: string,
  image: ArchivedImage,
): Promise<'saved' | 'present'> {
  if ((await fileSha256(path)) === image.sha256) return 'present';
  const read = await store.get(image.key);
  if (read === undefined) throw new Error('not in the image store');
  const part = `${path}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  try {
    await pipeline(
      read.body,
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(part, { flags: 'wx' }),
    );
    const got = hash.digest('hex');
    if (got !== image.sha256) {
      throw new Error(`the stored bytes hash to ${got}, not ${image.sha256} as recorded`);
    }
    await rename(part, path);
    return 'saved';
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
}

/** The file's SHA-256, or undefined when there is no such file. */
async function fileSha256(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return hash.digest('hex');
}

function extensionOf(image: ArchivedImage): string {
  return image.key.slice(image.key.lastIndexOf('.') + 1);
}

function summary(id: string, dir: string, tally: Tally): string {
  const parts = [`${tally.saved} images saved`, `${tally.present} already there`];
  if (tally.failed > 0) parts.push(`${tally.failed} FAILED (see above)`);
  if (tally.pending > 0) parts.push(`${tally.pending} items still pending (run again later)`);
  if (tally.dead > 0) parts.push(`${tally.dead} items dead (no images)`);
  if (tally.cancelled > 0) parts.push(`${tally.cancelled} items cancelled (no images)`);
  return `batch ${id}: ${parts.join(', ')} → ${dir}`;
}
