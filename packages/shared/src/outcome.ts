import type { FailureKind, ProviderError } from './errors/provider-error.ts';

/**
 * What one provider call came to. Provider clients produce these in exactly one place per
 * provider; the worker maps them to BullMQ control flow in exactly one place.
 */
export type Outcome<T> =
  | { kind: 'ok'; value: T }
  /** Drawing only: the task is still running; `hintMs` is the provider's own estimate. */
  | { kind: 'pending'; hintMs?: number }
  | { kind: FailureKind; error: ProviderError };

export type OutcomeKind = Outcome<unknown>['kind'];

export const OUTCOME_KINDS: readonly OutcomeKind[] = [
  'ok',
  'pending',
  'retryable',
  'throttled',
  'outage',
  'auth',
  'terminal',
  'config',
];

export function failure(error: ProviderError): Outcome<never> {
  return { kind: error.kind, error };
}
