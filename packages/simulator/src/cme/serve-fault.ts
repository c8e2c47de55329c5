import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { CmeContext } from './cme-context.ts';
import { CmeFailure } from './cme-failure.ts';
import { type CmeFaultAnswer, faultKind } from './cme-fault-answer.ts';
import { sendHttpFault, sendMalformedJson } from './http-io.ts';

export interface FaultHooks {
  /** Sends a failure code in this endpoint's answer shape. */
  sendFailure(failure: CmeFailure): void;
  /** Does what the call would have done (for `applied: true`). */
  apply(): void;
}

/**
 * Waits out the answer's delay, then serves it. Returns false when the caller should still
 * answer normally (a delay-only or `normal` answer), true when the fault was the answer.
 */
export async function serveFault(
  context: CmeContext,
  req: IncomingMessage,
  res: ServerResponse,
  answer: CmeFaultAnswer,
  hooks: FaultHooks,
): Promise<boolean> {
  const delayMs = 'delayMs' in answer ? (answer.delayMs ?? 0) : 0;
  if (delayMs > 0) {
    context.counters.fault('Slow');
    await delay(delayMs, undefined, { signal: context.signal });
  }
  const kind = faultKind(answer);
  if (kind === undefined || kind === 'Slow') return false;
  if ('applied' in answer && answer.applied) hooks.apply();
  context.counters.fault(kind);
  if ('code' in answer) {
    hooks.sendFailure(new CmeFailure(answer.code, answer.message, answer.englishMessage));
  } else if ('http' in answer) {
    sendHttpFault(res, answer.http, answer.body);
  } else if ('malformed' in answer) {
    sendMalformedJson(res);
  } else if ('drop' in answer) {
    req.socket.destroy();
  }
  // `hang`: no answer at all; the caller gives up, or `close()` ends the connection.
  return true;
}
