import type { Outcome, ProviderError } from '@atelier/shared';
import { expect } from 'vitest';
import type { DrawingHttpAnswer } from '../../src/drawing/drawing-answers.ts';

/** A provider answer: a JSON body (object) or raw text, with optional status and headers. */
export function answer(
  body: unknown,
  statusCode = 200,
  headers: Record<string, string> = {},
): DrawingHttpAnswer {
  return {
    statusCode,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** Asserts a failure outcome of `kind` with `code` and returns its error. */
export function failed(outcome: Outcome<unknown>, kind: string, code: string): ProviderError {
  if (outcome.kind !== 'failed') throw new Error(`expected a failure, got ${outcome.kind}`);
  expect(outcome.error.kind).toBe(kind);
  expect(outcome.error.code).toBe(code);
  expect(outcome.error.provider).toBe('drawing');
  return outcome.error;
}
