import type { DrawingTaskRequest } from './task-store.ts';

export interface SubmitLimits {
  textMaxLength: number;
  styles: readonly string[];
  resolutions: readonly string[];
  numMax: number;
}

export type SubmitValidation =
  | { ok: true; request: DrawingTaskRequest }
  | { ok: false; field: 'text' | 'style' | 'resolution' | 'num' };

function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The vendor's submit rules: required text (1..max characters), listed style/resolution, num 1..max. */
export function validateSubmit(fields: URLSearchParams, limits: SubmitLimits): SubmitValidation {
  const text = fields.get('text');
  if (text === null || text.trim() === '' || characterCount(text) > limits.textMaxLength) {
    return { ok: false, field: 'text' };
  }
  const resolution = fields.get('resolution');
  if (resolution === null || !limits.resolutions.includes(resolution)) {
    return { ok: false, field: 'resolution' };
  }
  const style = fields.get('style');
  if (style === null || !limits.styles.includes(style)) return { ok: false, field: 'style' };
  const numField = fields.get('num');
  const num = numField === null ? 1 : /^\d{1,3}$/.test(numField) ? Number(numField) : 0;
  if (num < 1 || num > limits.numMax) return { ok: false, field: 'num' };
  return { ok: true, request: { text, style, resolution, num } };
}
