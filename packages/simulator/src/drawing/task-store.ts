import { type DurationDistribution, sampleDurationMs } from './duration-distribution.ts';
import type { SeededRandom } from './seeded-random.ts';

/** What a submit asked for. */
export interface DrawingTaskRequest {
  text: string;
  style: string;
  resolution: string;
  num: number;
}

/** One task the simulated provider accepted. */
export interface DrawingTaskRecord extends DrawingTaskRequest {
  readonly submittedAtMs: number;
  /** When the task's images are ready (status 1), from submit time and the drawn duration. */
  readonly readyAtMs: number;
  /** Set once a task has failed for good (an injected status other than 0/1). */
  failedStatus: number | undefined;
  /** Whether the submit answer carrying this task's id was handed to the caller's connection. */
  answered: boolean;
}

export interface TaskStoreOptions {
  duration: DurationDistribution;
  perExtraImageMs: number;
  /** Tasks drawn at once upstream; more queue behind them. `Infinity` = no queueing. */
  upstreamConcurrency: number;
  taskIdDigits: number;
  durationRandom: SeededRandom;
  idRandom: SeededRandom;
}

/**
 * The simulated provider's tasks, in memory. Nothing runs per task: whether a task is done
 * is computed at query time from `readyAtMs`.
 */
export class TaskStore {
  readonly #tasks = new Map<string, DrawingTaskRecord>();
  readonly #options: TaskStoreOptions;
  readonly #idBase: bigint;
  #sequence = 0n;
  /** When each upstream slot frees up (only when concurrency is finite). */
  readonly #slotsFreeAtMs: number[];

  constructor(options: TaskStoreOptions) {
    this.#options = options;
    // Leading digit 1..8 leaves room to count up without growing a digit.
    let digits = String(1 + Math.floor(options.idRandom.next() * 8));
    while (digits.length < options.taskIdDigits) {
      digits += String(Math.floor(options.idRandom.next() * 10));
    }
    this.#idBase = BigInt(digits);
    const slots = Number.isFinite(options.upstreamConcurrency) ? options.upstreamConcurrency : 0;
    this.#slotsFreeAtMs = new Array<number>(slots).fill(0);
  }

  create(request: DrawingTaskRequest, nowMs: number): { taskId: string; task: DrawingTaskRecord } {
    const { duration, perExtraImageMs, durationRandom } = this.#options;
    const drawMs =
      sampleDurationMs(duration, durationRandom, request.num) + (request.num - 1) * perExtraImageMs;
    const startMs = this.#claimSlot(nowMs, drawMs);
    const task: DrawingTaskRecord = {
      ...request,
      submittedAtMs: nowMs,
      readyAtMs: Math.round(startMs + drawMs),
      failedStatus: undefined,
      answered: false,
    };
    const taskId = String(this.#idBase + this.#sequence++);
    this.#tasks.set(taskId, task);
    return { taskId, task };
  }

  get(taskId: string): DrawingTaskRecord | undefined {
    return this.#tasks.get(taskId);
  }

  get size(): number {
    return this.#tasks.size;
  }

  /** Every task with its id, in creation order. */
  entries(): IterableIterator<[string, DrawingTaskRecord]> {
    return this.#tasks.entries();
  }

  /** The earliest-free upstream slot: O(concurrency), which is small when set at all. */
  #claimSlot(nowMs: number, drawMs: number): number {
    const slots = this.#slotsFreeAtMs;
    if (slots.length === 0) return nowMs;
    let best = 0;
    for (let i = 1; i < slots.length; i++) {
      if ((slots[i] as number) < (slots[best] as number)) best = i;
    }
    const startMs = Math.max(nowMs, slots[best] as number);
    slots[best] = startMs + drawMs;
    return startMs;
  }
}
