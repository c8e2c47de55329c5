import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@atelier/shared';
import { JournalLock, type JournalLockOptions } from './journal-lock.ts';

/** One paid submit's answer, as the journal keeps it. */
export interface JournalEntry {
  jobId: string;
  taskId: string;
  /** When the answer was read (the job's `submittedAt`). */
  submittedAt: number;
}

export interface SubmitJournalOptions {
  dir: string;
  logger: Logger;
  /** The journal is emptied once it holds this much and no submit is in flight. Default 1 MiB. */
  compactBytes?: number;
  lock?: JournalLockOptions;
}

const FILE = 'submits.jsonl';
const DEFAULT_COMPACT_BYTES = 1024 * 1024;

/**
 * The worker's local submit journal (`ATELIER_JOURNAL_DIR`): each drawing taskId is appended
 * — one synchronous `write` on an `O_APPEND` file, in the same tick the provider's answer is
 * read, before anything can await — so a worker killed before the taskId reached Redis still
 * has it on disk. The worker started again on the same directory hands the journal's taskIds
 * to their jobs before it takes any (`applySubmitJournal`), then empties it. While running it
 * empties the file whenever it has grown and no answer is waiting for its Redis write.
 *
 * It survives the worker process (the kernel keeps what was written), not the machine: there
 * is no fsync per submit. One process per directory (`JournalLock`).
 */
export class SubmitJournal {
  /** What the journal held when it was opened (a previous process's answers). */
  readonly entries: readonly JournalEntry[];
  readonly #fd: number;
  readonly #lock: JournalLock;
  readonly #logger: Logger;
  readonly #compactBytes: number;
  #bytes: number;
  #inFlight = 0;
  #closed = false;

  private constructor(
    fd: number,
    lock: JournalLock,
    entries: JournalEntry[],
    bytes: number,
    options: SubmitJournalOptions,
  ) {
    this.#fd = fd;
    this.#lock = lock;
    this.entries = entries;
    this.#bytes = bytes;
    this.#logger = options.logger;
    this.#compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
  }

  /** Takes the directory (creating it) and reads what a previous process left in it. */
  static async open(options: SubmitJournalOptions): Promise<SubmitJournal> {
    mkdirSync(options.dir, { recursive: true });
    const lock = await JournalLock.acquire(options.dir, options.lock);
    try {
      const path = join(options.dir, FILE);
      const { entries, bytes } = readEntries(path, options.logger);
      const fd = openSync(path, 'a');
      return new SubmitJournal(fd, lock, entries, bytes, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * Appends an answered submit, synchronously. Returns false when the disk refused it
   * (logged): the taskId then only has its way to Redis. Each `true` must be followed by
   * `settled()` once the taskId's Redis write has returned (whatever it answered).
   */
  append(entry: JournalEntry): boolean {
    if (this.#closed) return false;
    const line = `${JSON.stringify(entry)}\n`;
    try {
      writeSync(this.#fd, line);
    } catch (err) {
      this.#logger.error(
        { err, jobId: entry.jobId, taskId: entry.taskId },
        'submit journal: could not append the taskId',
      );
      return false;
    }
    this.#bytes += Buffer.byteLength(line);
    this.#inFlight++;
    return true;
  }

  /** The Redis write of an appended taskId returned: past a size, an idle journal is emptied. */
  settled(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#inFlight === 0 && this.#bytes >= this.#compactBytes) this.clear();
  }

  /** Empties the journal (after its entries were handed to Redis, or when none is needed). */
  clear(): void {
    if (this.#closed) return;
    try {
      ftruncateSync(this.#fd, 0);
      this.#bytes = 0;
    } catch (err) {
      this.#logger.warn({ err }, 'submit journal: could not empty it');
    }
  }

  /** Closes the file (emptied when no answer waits for Redis) and lets go of the directory. */
  close(): void {
    if (this.#closed) return;
    if (this.#inFlight === 0) this.clear();
    this.#closed = true;
    closeSync(this.#fd);
    this.#lock.release();
  }
}

/** The journal's entries; a line that is not a whole entry (a torn write) is skipped. */
function readEntries(path: string, logger: Logger): { entries: JournalEntry[]; bytes: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], bytes: 0 };
    throw error;
  }
  const entries: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseEntry(line);
    if (entry) entries.push(entry);
    else
      logger.warn(
        { line: line.slice(0, 200) },
        'submit journal: skipped a line that is not an entry',
      );
  }
  return { entries, bytes: Buffer.byteLength(text) };
}

function parseEntry(line: string): JournalEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<JournalEntry>;
    if (
      typeof value.jobId === 'string' &&
      typeof value.taskId === 'string' &&
      value.taskId !== '' &&
      typeof value.submittedAt === 'number'
    ) {
      return { jobId: value.jobId, taskId: value.taskId, submittedAt: value.submittedAt };
    }
  } catch {
    // Not JSON.
  }
  return undefined;
}
