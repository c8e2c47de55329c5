/**
 * A sliding one-second window admitting at most `limit` calls: a ring of the last `limit`
 * admission times, so each check is O(1).
 */
export class QpsWindow {
  readonly limit: number;
  readonly #admittedAtMs: number[];
  #oldest = 0;

  constructor(limit: number) {
    this.limit = limit;
    this.#admittedAtMs = new Array<number>(limit).fill(Number.NEGATIVE_INFINITY);
  }

  /** Admits (and records) the call unless `limit` calls were admitted in the last second. */
  tryAdmit(nowMs: number): boolean {
    const oldest = this.#admittedAtMs[this.#oldest] as number;
    if (nowMs - oldest < 1000) return false;
    this.#admittedAtMs[this.#oldest] = nowMs;
    this.#oldest = (this.#oldest + 1) % this.limit;
    return true;
  }
}
