import type { StormName } from './chaos-plan.ts';

/** Fault settings for both simulated providers (their admin APIs' `POST /__admin/faults`). */
export interface ProviderFaults {
  drawing: Record<string, unknown>;
  cme: Record<string, unknown>;
}

/**
 * Every setting a storm touches, back to normal. `delayMs` is left alone: the cut events use it
 * to keep jobs active while a worker's Redis connections are cut.
 */
export const CALM: ProviderFaults = {
  drawing: {
    submitCodeRates: {},
    queryCodeRates: {},
    throttle: null,
    dropRate: 0,
    htmlRate: 0,
    slowRate: 0,
  },
  cme: {
    codeRates: { InternalError: 0, RequestLimitExceeded: 0 },
    http5xxRate: 0,
    dropRate: 0,
    slowRate: 0,
  },
};

/**
 * What each storm injects. `slow` answers after the workers' request timeout (the drawing
 * task is created, its answer never read); `resets` destroys connections before the call is
 * processed; `html` is a proxy's error page; `maintenance` the providers' 500/501.
 */
export function stormFaults(storm: StormName, requestTimeoutMs: number): ProviderFaults {
  const late = requestTimeoutMs + 2_000;
  switch (storm) {
    case 'maintenance':
      return {
        drawing: { submitCodeRates: { 500: 0.25, 501: 0.15 }, queryCodeRates: { 500: 0.15 } },
        cme: { http5xxRate: 0.2, http5xxStatus: 500, codeRates: { InternalError: 0.15 } },
      };
    case 'throttle':
      return {
        drawing: { throttle: { qps: 8 } },
        cme: { codeRates: { RequestLimitExceeded: 0.3 } },
      };
    case 'resets':
      return { drawing: { dropRate: 0.3 }, cme: { dropRate: 0.3 } };
    case 'html':
      return {
        drawing: { htmlRate: 0.3, htmlStatus: 502 },
        cme: { http5xxRate: 0.3, http5xxStatus: 502 },
      };
    case 'slow':
      return {
        drawing: { slowRate: 0.3, slowDelayMs: late },
        cme: { slowRate: 0.3, slowDelayMs: late },
      };
    case 'mixed':
      return {
        drawing: {
          submitCodeRates: { 500: 0.05 },
          queryCodeRates: { 501: 0.05 },
          throttle: { qps: 15 },
          dropRate: 0.05,
          htmlRate: 0.05,
          slowRate: 0.05,
          slowDelayMs: late,
        },
        cme: {
          codeRates: { InternalError: 0.05, RequestLimitExceeded: 0.05 },
          http5xxRate: 0.05,
          http5xxStatus: 503,
          dropRate: 0.05,
          slowRate: 0.05,
          slowDelayMs: late,
        },
      };
  }
}
