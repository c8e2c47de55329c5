/**
 * One injected answer, scripted or drawn at random. Every kind but `normal` may wait
 * `delayMs` first; `applied: true` runs the real action before answering with the fault
 * (the "did my delete happen?" case). `drop` resets the connection; `hang` never answers at
 * all (the caller times out; `close()` ends it).
 */
export type CmeFaultAnswer =
  | { code: string; message?: string; englishMessage?: string; delayMs?: number; applied?: boolean }
  | { http: number; body?: unknown; delayMs?: number; applied?: boolean }
  | { malformed: true; delayMs?: number; applied?: boolean }
  | { drop: true; delayMs?: number; applied?: boolean }
  | { hang: true; delayMs?: number; applied?: boolean }
  | { delayMs: number }
  | { normal: true };

/**
 * Which calls a script answers. A string is an action. Actions are `Login` or a client API
 * action, with or without its class (`DeleteMaterial` = `Material/DeleteMaterial`).
 */
export type CmeScriptMatch = string | { action?: string; materialId?: string; userId?: string };

/** The counter key of an answer (undefined for a normal one). */
export function faultKind(answer: CmeFaultAnswer): string | undefined {
  if ('code' in answer) return answer.code;
  if ('http' in answer) return `HTTP ${answer.http}`;
  if ('malformed' in answer) return 'MalformedJson';
  if ('drop' in answer) return answer.applied ? 'AnswerLost' : 'ConnectionDrop';
  if ('hang' in answer) return 'NoAnswer';
  if ('normal' in answer) return undefined;
  return 'Slow';
}

/** Throws a TypeError naming what is wrong with an answer given from outside (e.g. JSON). */
export function assertFaultAnswer(
  answer: unknown,
  where: string,
): asserts answer is CmeFaultAnswer {
  if (typeof answer !== 'object' || answer === null) {
    throw new TypeError(`${where} must be an object`);
  }
  const a = answer as Record<string, unknown>;
  const delayOk = a.delayMs === undefined || (typeof a.delayMs === 'number' && a.delayMs >= 0);
  if (!delayOk) throw new TypeError(`${where}.delayMs must be a number >= 0`);
  const valid =
    (typeof a.code === 'string' && a.code.length > 0) ||
    (typeof a.http === 'number' && Number.isInteger(a.http) && a.http >= 100 && a.http <= 599) ||
    a.malformed === true ||
    a.drop === true ||
    a.hang === true ||
    a.normal === true ||
    typeof a.delayMs === 'number';
  if (!valid) {
    throw new TypeError(
      `${where} must have one of code, http (100-599), malformed: true, drop: true, hang: true, normal: true, delayMs`,
    );
  }
}
