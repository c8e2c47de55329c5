import { createReadStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const FLUSH_BYTES = 256 * 1024;

/**
 * Validated items of a streamed batch, kept in a temporary file (one JSON line each) between
 * the validation pass and the enqueue pass: a stream can be read only once, nothing may be
 * enqueued before every item is known to be good, and memory must not grow with the batch.
 */
export class ItemSpool<T> {
  readonly #dir: string;
  readonly #file: FileHandle;
  #pending: string[] = [];
  #pendingBytes = 0;
  #count = 0;

  private constructor(dir: string, file: FileHandle) {
    this.#dir = dir;
    this.#file = file;
  }

  static async create<T>(): Promise<ItemSpool<T>> {
    const dir = await mkdtemp(join(tmpdir(), 'atelier-batch-'));
    try {
      const file = await open(join(dir, 'items.jsonl'), 'w+');
      return new ItemSpool<T>(dir, file);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get count(): number {
    return this.#count;
  }

  async append(item: T): Promise<void> {
    const line = `${JSON.stringify(item)}\n`;
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    this.#count++;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.#flush();
  }

  /** Items from `fromIndex` on, `size` at a time, in the order they were appended. */
  async *chunks(fromIndex: number, size: number): AsyncGenerator<T[]> {
    await this.#flush();
    const lines = createInterface({
      input: createReadStream(join(this.#dir, 'items.jsonl'), { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let index = 0;
    let chunk: T[] = [];
    for await (const line of lines) {
      if (index++ < fromIndex) continue;
      chunk.push(JSON.parse(line) as T);
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  async dispose(): Promise<void> {
    await this.#file.close().catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#file.write(text);
  }
}
