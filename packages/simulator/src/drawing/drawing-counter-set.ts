/** Kinds of injected fault, counted when served. */
export type DrawingFaultKind =
  | 'code201'
  | 'code202'
  | 'code400'
  | 'code500'
  | 'code501'
  | 'code999'
  | 'blocked'
  | 'maintenance'
  | 'throttled'
  | 'quota'
  | 'slow'
  | 'drop'
  | 'malformed'
  | 'html'
  | 'badStatus'
  | 'image'
  | 'scripted';

const FAULT_KINDS: readonly DrawingFaultKind[] = [
  'code201',
  'code202',
  'code400',
  'code500',
  'code501',
  'code999',
  'blocked',
  'maintenance',
  'throttled',
  'quota',
  'slow',
  'drop',
  'malformed',
  'html',
  'badStatus',
  'image',
  'scripted',
];

/** A snapshot of what the simulator has seen since the last reset. */
export interface DrawingCounters {
  /** Submit calls received (whatever they were answered). */
  submits: number;
  /** Query calls received (whatever they were answered). */
  queries: number;
  /** Tasks accepted — what the provider would bill. */
  tasksCreated: number;
  /** Calls refused by authentication (HTTP 401). */
  authFailures: number;
  /** GET requests for an existing task's image (whatever they were served). */
  imageDownloads: number;
  /** Injected faults served, per kind (a scripted answer counts as `scripted` only). */
  faults: Record<DrawingFaultKind, number>;
}

function zeroFaults(): Record<DrawingFaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<
    DrawingFaultKind,
    number
  >;
}

/** The mutable counters behind `DrawingCounters`, with per-text and per-task tallies. */
export class DrawingCounterSet {
  #submits = 0;
  #queries = 0;
  #tasksCreated = 0;
  #authFailures = 0;
  #imageDownloads = 0;
  #faults = zeroFaults();
  readonly #submitsByText = new Map<string, number>();
  readonly #queriesByTaskId = new Map<string, number>();

  submit(text: string | undefined): void {
    this.#submits++;
    if (text !== undefined) this.#submitsByText.set(text, (this.#submitsByText.get(text) ?? 0) + 1);
  }

  query(taskId: string | undefined): void {
    this.#queries++;
    if (taskId !== undefined) {
      this.#queriesByTaskId.set(taskId, (this.#queriesByTaskId.get(taskId) ?? 0) + 1);
    }
  }

  taskCreated(): void {
    this.#tasksCreated++;
  }

  authFailure(): void {
    this.#authFailures++;
  }

  imageDownload(): void {
    this.#imageDownloads++;
  }

  fault(kind: DrawingFaultKind): void {
    this.#faults[kind]++;
  }

  submitsFor(text: string): number {
    return this.#submitsByText.get(text) ?? 0;
  }

  queriesFor(taskId: string): number {
    return this.#queriesByTaskId.get(taskId) ?? 0;
  }

  snapshot(): DrawingCounters {
    return {
      submits: this.#submits,
      queries: this.#queries,
      tasksCreated: this.#tasksCreated,
      authFailures: this.#authFailures,
      imageDownloads: this.#imageDownloads,
      faults: { ...this.#faults },
    };
  }

  reset(): void {
    this.#submits = 0;
    this.#queries = 0;
    this.#tasksCreated = 0;
    this.#authFailures = 0;
    this.#imageDownloads = 0;
    this.#faults = zeroFaults();
    this.#submitsByText.clear();
    this.#queriesByTaskId.clear();
  }
}
