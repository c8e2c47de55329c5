import {
  closeSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@atelier/shared';

export interface JournalLockOptions {
  /** A lock not refreshed for this long belongs to a process that is gone. Default 10 000. */
  staleMs?: number;
  /** How long to wait for a live owner's lock to go stale before giving up. Default 12 000. */
  waitMs?: number;
  /** How often the owner refreshes it. Default 2 000. */
  refreshMs?: number;
}

const DEFAULTS = { staleMs: 10_000, waitMs: 12_000, refreshMs: 2_000 } as const;

interface Owner {
  host: string;
  pid: number;
  /** When the owning process started (`performance.timeOrigin`): tells a pid's lives apart. */
  since: number;
}

/**
 * One worker process per journal directory: `owner.lock` names the owner (host, pid, process
 * start) and is refreshed (its mtime) while it lives. A lock is taken over when its owner is
 * gone: the same host and a pid that is no longer running, or that now belongs to another
 * process (a container restarted: pid 1 again), or no refresh for `staleMs` (another host, a
 * reused pid). A live owner's lock is waited for up to `waitMs`, then refused with a
 * `ConfigError` naming `ATELIER_JOURNAL_DIR`.
 */
export class JournalLock {
  readonly #path: string;
  readonly #content: string;
  readonly #timer: NodeJS.Timeout;

  private constructor(path: string, content: string, refreshMs: number) {
    this.#path = path;
    this.#content = content;
    this.#timer = setInterval(() => this.#refresh(), refreshMs);
    this.#timer.unref();
  }

  static async acquire(dir: string, options: JournalLockOptions = {}): Promise<JournalLock> {
    const staleMs = options.staleMs ?? DEFAULTS.staleMs;
    const waitMs = options.waitMs ?? DEFAULTS.waitMs;
    const path = join(dir, 'owner.lock');
    const me: Owner = { host: hostname(), pid: process.pid, since: performance.timeOrigin };
    const content = JSON.stringify(me);
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (tryCreate(path, content)) {
        return new JournalLock(path, content, options.refreshMs ?? DEFAULTS.refreshMs);
      }
      const held = readOwner(path);
      if (held === undefined) continue;
      if (isGone(held, me, staleMs)) {
        removeIfUnchanged(path, held);
        continue;
      }
      if (Date.now() > deadline) {
        throw new ConfigError(
          'ATELIER_JOURNAL_DIR',
          `${dir} is in use by another worker process (${held.raw}): ` +
            'give each worker process its own directory',
        );
      }
      await sleep(250);
    }
  }

  /** Lets go of the directory (another process may take it at once). */
  release(): void {
    clearInterval(this.#timer);
    try {
      if (readFileSync(this.#path, 'utf8') === this.#content) unlinkSync(this.#path);
    } catch {
      // Already gone.
    }
  }

  #refresh(): void {
    const now = new Date();
    try {
      utimesSync(this.#path, now, now);
    } catch {
      // Removed from under us: the next start will take the directory again.
    }
  }
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

interface Held {
  /** Undefined while the owner is still writing it (or it died doing so). */
  owner: Owner | undefined;
  raw: string;
  refreshedAt: number;
}

/** A lock being written is this young at most. */
const WRITING_MS = 1000;

/** The lock as it is now; `undefined` when there is none (removed meanwhile). */
function readOwner(path: string): Held | undefined {
  let raw: string;
  let refreshedAt: number;
  try {
    raw = readFileSync(path, 'utf8');
    refreshedAt = statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<Owner>;
    return {
      owner: {
        host: String(parsed.host ?? ''),
        pid: Number(parsed.pid ?? 0),
        since: Number(parsed.since ?? 0),
      },
      raw,
      refreshedAt,
    };
  } catch {
    return { owner: undefined, raw, refreshedAt };
  }
}

function isGone(held: Held, me: Owner, staleMs: number): boolean {
  const age = Date.now() - held.refreshedAt;
  if (age > staleMs) return true;
  if (held.owner === undefined) return age > WRITING_MS;
  if (held.owner.host !== me.host) return false;
  if (held.owner.pid === me.pid) return held.owner.since !== me.since;
  return !isRunning(held.owner.pid);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a stale lock, unless another process replaced it since it was read. */
function removeIfUnchanged(path: string, held: Held): void {
  try {
    if (readFileSync(path, 'utf8') === held.raw) unlinkSync(path);
  } catch {
    // Gone meanwhile.
  }
}
