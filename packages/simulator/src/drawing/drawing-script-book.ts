import type { DrawingAnswer, DrawingScript } from './drawing-answer.ts';
import type { DrawingOperation } from './drawing-operation.ts';

interface Queue {
  answers: readonly DrawingAnswer[];
  next: number;
}

/** Scripted answers per text and operation, consumed in order; exhausted → normal behaviour. */
export class DrawingScriptBook {
  readonly #scripts = new Map<string, Record<DrawingOperation, Queue>>();

  /** Appends to whatever is still unconsumed for this text. */
  add(text: string, script: DrawingScript): void {
    const entry = this.#scripts.get(text) ?? {
      submit: { answers: [], next: 0 },
      query: { answers: [], next: 0 },
    };
    for (const op of ['submit', 'query'] as const) {
      const more = script[op];
      if (more === undefined || more.length === 0) continue;
      const queue = entry[op];
      entry[op] = { answers: [...queue.answers.slice(queue.next), ...more], next: 0 };
    }
    this.#scripts.set(text, entry);
  }

  /** The next scripted answer for this text and operation, consuming it. */
  take(text: string, op: DrawingOperation): DrawingAnswer | undefined {
    const entry = this.#scripts.get(text);
    if (entry === undefined) return undefined;
    const queue = entry[op];
    const answer = queue.answers[queue.next];
    if (answer === undefined) return undefined;
    queue.next++;
    const other = entry[op === 'submit' ? 'query' : 'submit'];
    if (queue.next >= queue.answers.length && other.next >= other.answers.length) {
      this.#scripts.delete(text);
    }
    return answer;
  }

  /** Unconsumed answers for a text (for assertions). */
  remaining(text: string): { submit: number; query: number } {
    const entry = this.#scripts.get(text);
    return {
      submit: entry ? entry.submit.answers.length - entry.submit.next : 0,
      query: entry ? entry.query.answers.length - entry.query.next : 0,
    };
  }

  clear(): void {
    this.#scripts.clear();
  }
}
