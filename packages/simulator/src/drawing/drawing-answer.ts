/**
 * One scripted answer. Every kind may carry `delayMs`: the call is processed on arrival and
 * its answer sent that much later. `{ delayMs }` alone (or `{ code: 200 }`) means "answer
 * normally".
 */
export type DrawingAnswer =
  /** A business answer with this code (200 = behave normally) and no data. */
  | { code: number; msg?: string; delayMs?: number }
  /** Query only: the task's answer with this status (0 pending, 1 done, other = failed). */
  | { status: number; delayMs?: number }
  /** A raw HTTP answer; nothing is processed. */
  | { http: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  /**
   * Destroy the socket without answering: `true` before anything is processed, `'after'`
   * once the call has been processed (a submit then has created its task — the lost-answer
   * case that tempts a client into paying twice).
   */
  | { drop: true | 'after'; delayMs?: number }
  /** Processed normally, then the answer is cut short so it is not valid JSON. */
  | { malformed: true; delayMs?: number }
  | { delayMs: number };

/** Answers consumed in order for the calls about one text (queries map taskId → text). */
export interface DrawingScript {
  submit?: readonly DrawingAnswer[];
  query?: readonly DrawingAnswer[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAnswer(value: unknown, where: string): DrawingAnswer {
  if (!isRecord(value)) throw new TypeError(`${where} must be an object`);
  const { delayMs } = value;
  if (delayMs !== undefined && (typeof delayMs !== 'number' || !(delayMs >= 0))) {
    throw new RangeError(`${where}.delayMs must be a number >= 0`);
  }
  if ('code' in value && Number.isInteger(value.code)) return value as DrawingAnswer;
  if ('status' in value && Number.isInteger(value.status)) return value as DrawingAnswer;
  if ('http' in value && Number.isInteger(value.http)) {
    if (value.body !== undefined && typeof value.body !== 'string') {
      throw new TypeError(`${where}.body must be a string`);
    }
    if (
      value.headers !== undefined &&
      (!isRecord(value.headers) ||
        !Object.values(value.headers).every((h) => typeof h === 'string'))
    ) {
      throw new TypeError(`${where}.headers must be an object of strings`);
    }
    return value as DrawingAnswer;
  }
  if (value.drop === true || value.drop === 'after') return value as DrawingAnswer;
  if (value.malformed === true) return value as DrawingAnswer;
  if (typeof delayMs === 'number' && Object.keys(value).length === 1) {
    return value as DrawingAnswer;
  }
  throw new TypeError(
    `${where} must be one of {code}, {status}, {http}, {drop}, {malformed} or {delayMs}`,
  );
}

/** Validates a script (e.g. from the admin endpoint), naming the bad entry. */
export function parseDrawingScript(value: unknown): DrawingScript {
  if (!isRecord(value)) throw new TypeError('script must be an object');
  const script: { submit?: DrawingAnswer[]; query?: DrawingAnswer[] } = {};
  for (const [op, answers] of Object.entries(value)) {
    if (op !== 'submit' && op !== 'query') throw new RangeError(`script.${op} is not an operation`);
    if (!Array.isArray(answers)) throw new TypeError(`script.${op} must be an array`);
    script[op] = answers.map((answer, i) => parseAnswer(answer, `script.${op}[${i}]`));
  }
  return script;
}
