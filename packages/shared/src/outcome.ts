import type { FailureKind, ProviderError } from './errors/provider-error.ts';

/**
 * What one provider call came to. Provider clients produce these in exactly one place per
 * provider; the worker maps them to BullMQ control flow in exactly one place. A failure says
 * its kind once, on its error (`error.kind`).
 */
export type Outcome<T> =
  | { kind: 'ok'; value: T }
  /** Drawing only: the task is still running; `hintMs` is the provider's own estimate. */
  | { kind: 'pending'; hintMs?: number }
  | { kind: 'failed'; error: ProviderError };

/** An outcome in one word, for metrics and logs: `ok`, `pending` or the failure's kind. */
export type OutcomeLabel = 'ok' | 'pending' | FailureKind;

export function outcomeLabel(outcome: Outcome<unknown>): OutcomeLabel {
  return outcome.kind === 'failed' ? outcome.error.kind : outcome.kind;
}

export function failure(error: ProviderError): Outcome<never> {
  return { kind: 'failed', error };
}
