/** Random fault injection for client API calls. Rates are probabilities in [0, 1]. */
export interface CmeFaultSettings {
  /** Failure answers by code, e.g. `{InternalError: 0.1, ResourceInUse: 0.05}`; they add up to ≤ 1. */
  codeRates: Record<string, number>;
  /** Rate of bare HTTP errors (a gateway page, no CME envelope) and their status. */
  http5xxRate: number;
  http5xxStatus: number;
  /** Rate of HTTP 200 answers whose JSON is cut off. */
  malformedRate: number;
  /** Rate of connections destroyed without an answer. */
  dropRate: number;
  /**
   * Rate of calls that are applied (the class created, the material deleted) and then answered
   * by a reset connection: the caller cannot tell whether its call happened.
   */
  lostAnswerRate: number;
  /** Added to every answer (client API and login). */
  delayMs: number;
  /** Rate of answers delayed by a further `slowDelayMs`. */
  slowRate: number;
  slowDelayMs: number;
  /** The next N client API calls fail with `forceAuthFailureCode`, whatever their ticket. */
  forceAuthFailures: number;
  forceAuthFailureCode: string;
  /**
   * Actions the random faults apply to (`Material/DeleteMaterial`, or `Login` for the ticket
   * exchange); null = every client API action and not the login.
   */
  actions: string[] | null;
}

export type CmeFaultSettingsPatch = Partial<CmeFaultSettings>;

export const NO_FAULTS: Readonly<CmeFaultSettings> = Object.freeze({
  codeRates: {},
  http5xxRate: 0,
  http5xxStatus: 503,
  malformedRate: 0,
  dropRate: 0,
  lostAnswerRate: 0,
  delayMs: 0,
  slowRate: 0,
  slowDelayMs: 1_000,
  forceAuthFailures: 0,
  forceAuthFailureCode: 'AuthFailure.SessionInvalid',
  actions: null,
});

/** `current` with `patch` applied (codeRates merged; a rate of 0 removes a code), validated. */
export function mergeFaultSettings(
  current: CmeFaultSettings,
  patch: CmeFaultSettingsPatch,
): CmeFaultSettings {
  const codeRates = { ...current.codeRates, ...patch.codeRates };
  for (const [code, rate] of Object.entries(codeRates)) {
    assertRate(`faults.codeRates.${code}`, rate);
    if (rate === 0) delete codeRates[code];
  }
  const sum = Object.values(codeRates).reduce((total, rate) => total + rate, 0);
  if (sum > 1 + 1e-9) throw new RangeError('faults.codeRates must add up to at most 1');
  const merged: CmeFaultSettings = {
    ...current,
    ...stripUndefined(patch),
    codeRates,
    actions:
      patch.actions === undefined ? current.actions : (patch.actions?.map(qualifyAction) ?? null),
  };
  for (const key of [
    'http5xxRate',
    'malformedRate',
    'dropRate',
    'lostAnswerRate',
    'slowRate',
  ] as const) {
    assertRate(`faults.${key}`, merged[key]);
  }
  for (const key of ['delayMs', 'slowDelayMs', 'forceAuthFailures'] as const) {
    if (!Number.isInteger(merged[key]) || merged[key] < 0) {
      throw new RangeError(`faults.${key} must be an integer >= 0`);
    }
  }
  if (
    !Number.isInteger(merged.http5xxStatus) ||
    merged.http5xxStatus < 500 ||
    merged.http5xxStatus > 599
  ) {
    throw new RangeError('faults.http5xxStatus must be 500 to 599');
  }
  if (typeof merged.forceAuthFailureCode !== 'string' || !merged.forceAuthFailureCode)
    throw new RangeError('faults.forceAuthFailureCode must be set');
  return merged;
}

/** `DeleteMaterial` → `Material/DeleteMaterial`; `Login` and qualified names stay. */
export function qualifyAction(action: string): string {
  return action === 'Login' || action.includes('/') ? action : `Material/${action}`;
}

function assertRate(name: string, rate: unknown): void {
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    throw new RangeError(`${name} must be a number from 0 to 1`);
  }
}

function stripUndefined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
