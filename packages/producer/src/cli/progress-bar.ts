export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  total: number;
  completed: number;
  dead: number;
  /** Items queued so far (while a batch is being submitted). */
  enqueued?: number;
}

/**
 * A one-line progress display on stderr: bar, done / dead / total, rate and ETA. On a
 * terminal it redraws in place (at most ten times a second); otherwise it prints a plain
 * line every `plainEveryMs` and at the end, so logs stay readable.
 */
export class ProgressBar {
  readonly #out: ProgressStream;
  readonly #plainEveryMs: number;
  readonly #startedAt = Date.now();
  #firstSettled: { at: number; count: number } | undefined;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #last: Progress | undefined;

  constructor(out: ProgressStream, plainEveryMs = 2000) {
    this.#out = out;
    this.#plainEveryMs = plainEveryMs;
  }

  update(progress: Progress, now = Date.now()): void {
    this.#last = progress;
    const settled = progress.completed + progress.dead;
    this.#firstSettled ??= { at: now, count: settled };
    const interval = this.#out.isTTY ? 100 : this.#plainEveryMs;
    if (now - this.#lastDrawAt < interval) return;
    this.#lastDrawAt = now;
    this.#draw(progress, now);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.#last) this.#draw(this.#last, Date.now());
    if (this.#out.isTTY) this.#out.write('\n');
  }

  /** The text of one progress line (exposed for tests). */
  line(progress: Progress, now = Date.now()): string {
    const { total, completed, dead } = progress;
    const settled = completed + dead;
    const parts: string[] = [];
    if (progress.enqueued !== undefined && progress.enqueued < total) {
      parts.push(`queued ${progress.enqueued}/${total}`);
    }
    parts.push(`${settled}/${total} done`, `${dead} dead`);
    const rate = this.#rate(settled, now);
    parts.push(`${rate.toFixed(1)}/s`);
    const remaining = total - settled;
    parts.push(`ETA ${remaining === 0 ? '0s' : rate > 0 ? duration(remaining / rate) : '?'}`);
    const text = parts.join(' · ');
    if (!this.#out.isTTY) return text;
    const width = Math.max(10, Math.min(40, (this.#out.columns ?? 80) - text.length - 4));
    const filled = total === 0 ? width : Math.round((settled / total) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
  }

  #rate(settled: number, now: number): number {
    const since = this.#firstSettled ?? { at: this.#startedAt, count: 0 };
    const seconds = (now - since.at) / 1000;
    return seconds > 0 ? (settled - since.count) / seconds : 0;
  }

  #draw(progress: Progress, now: number): void {
    const text = this.line(progress, now);
    this.#out.write(this.#out.isTTY ? `\r\x1b[2K${text}` : `${text}\n`);
  }
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
