import { assertFaultAnswer, type CmeFaultAnswer, type CmeScriptMatch } from './cme-fault-answer.ts';
import {
  type CmeFaultSettings,
  type CmeFaultSettingsPatch,
  mergeFaultSettings,
  NO_FAULTS,
  qualifyAction,
} from './cme-fault-settings.ts';
import { seededRandom } from './seeded-random.ts';

/** What the injector knows about a call when it decides how to answer it. */
export interface FaultCall {
  /** `Login` or `<ActionClass>/<ActionName>`. */
  action: string;
  userId?: string;
  materialIds: string[];
}

interface Script {
  action?: string;
  materialId?: string;
  userId?: string;
  answers: CmeFaultAnswer[];
}

/**
 * Decides, per call, whether to answer with a fault: scripted answers first (consumed in
 * order, the oldest matching script first), then random faults from a seeded PRNG.
 */
export class FaultInjector {
  #settings: CmeFaultSettings;
  #scripts: Script[] = [];
  #random: () => number;

  constructor(patch: CmeFaultSettingsPatch, seed: number) {
    this.#settings = mergeFaultSettings(NO_FAULTS, patch);
    this.#random = seededRandom(seed);
  }

  settings(): CmeFaultSettings {
    return structuredClone(this.#settings);
  }

  set(patch: CmeFaultSettingsPatch): void {
    this.#settings = mergeFaultSettings(this.#settings, patch);
  }

  /** No random faults, no forced auth failures, no scripts. */
  clear(): void {
    this.#settings = mergeFaultSettings(NO_FAULTS, {});
    this.#scripts = [];
  }

  script(match: CmeScriptMatch, answers: readonly CmeFaultAnswer[]): void {
    const where = typeof match === 'string' ? { action: match } : match;
    if (typeof where !== 'object' || where === null)
      throw new TypeError('script match must be an object');
    if (!Array.isArray(answers) || answers.length === 0) {
      throw new TypeError('script answers must be a non-empty array');
    }
    for (const [i, answer] of answers.entries()) assertFaultAnswer(answer, `answers[${i}]`);
    this.#scripts.push({
      ...(where.action === undefined ? {} : { action: qualifyAction(where.action) }),
      ...(where.materialId === undefined ? {} : { materialId: where.materialId }),
      ...(where.userId === undefined ? {} : { userId: where.userId }),
      answers: answers.map((a) => ({ ...a })),
    });
  }

  /** Scripted answers not yet served. */
  scriptedRemaining(): number {
    return this.#scripts.reduce((total, s) => total + s.answers.length, 0);
  }

  /** The code to fail this call with when a forced auth failure is due. */
  takeForcedAuthFailure(): string | undefined {
    if (this.#settings.forceAuthFailures === 0) return undefined;
    this.#settings.forceAuthFailures--;
    return this.#settings.forceAuthFailureCode;
  }

  /** The fault to answer this call with, or undefined for a normal answer. */
  plan(call: FaultCall): CmeFaultAnswer | undefined {
    const answer = this.#scripted(call) ?? this.#randomFault(call);
    const extraMs = this.#settings.delayMs;
    if (extraMs === 0) return answer;
    if (!answer) return { delayMs: extraMs };
    if ('normal' in answer) return { delayMs: extraMs };
    return { ...answer, delayMs: (answer.delayMs ?? 0) + extraMs };
  }

  #scripted(call: FaultCall): CmeFaultAnswer | undefined {
    const index = this.#scripts.findIndex(
      (s) =>
        (s.action === undefined || s.action === call.action) &&
        (s.userId === undefined || s.userId === call.userId) &&
        (s.materialId === undefined || call.materialIds.includes(s.materialId)),
    );
    const script = this.#scripts[index];
    if (!script) return undefined;
    const answer = script.answers.shift();
    if (script.answers.length === 0) this.#scripts.splice(index, 1);
    return answer;
  }

  #randomFault(call: FaultCall): CmeFaultAnswer | undefined {
    const s = this.#settings;
    const eligible = s.actions ? s.actions.includes(call.action) : call.action !== 'Login';
    if (!eligible) return undefined;
    if (this.#hit(s.dropRate)) return { drop: true };
    if (this.#hit(s.lostAnswerRate)) return { drop: true, applied: true };
    if (this.#hit(s.http5xxRate)) return { http: s.http5xxStatus };
    if (this.#hit(s.malformedRate)) return { malformed: true };
    const code = this.#pickCode();
    const slowMs = this.#hit(s.slowRate) ? s.slowDelayMs : 0;
    if (code) return slowMs > 0 ? { code, delayMs: slowMs } : { code };
    return slowMs > 0 ? { delayMs: slowMs } : undefined;
  }

  #hit(rate: number): boolean {
    return rate > 0 && this.#random() < rate;
  }

  #pickCode(): string | undefined {
    const entries = Object.entries(this.#settings.codeRates);
    if (entries.length === 0) return undefined;
    let roll = this.#random();
    for (const [code, rate] of entries) {
      if (roll < rate) return code;
      roll -= rate;
    }
    return undefined;
  }
}
