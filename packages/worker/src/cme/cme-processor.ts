import {
  AtelierError,
  type CmeJobData,
  type CmeOperation,
  type CmeResult,
  type Outcome,
  type ParsedCmeOperationRequest,
  parseCmeOperationRequest,
  ValidationError,
} from '@atelier/shared';
import type { Step, StepContext, StepProcessor } from '../runtime/step.ts';
import { CME_ACTION_IDEMPOTENCY } from './cme-idempotency.ts';
import type { CmeOperationRunner } from './cme-operation-runner.ts';

type CmeStep = Step<CmeJobData, CmeResult>;
type Operations = Pick<CmeOperationRunner, 'run' | 'findCreated'>;

/**
 * A CME job: validate the operation again (a malformed payload never crashes a worker), run
 * it (ticket, rate limit, one refresh-and-retry on auth, idempotent delete), and hand the
 * outcome to the step runner. A create is sent once per unknown outcome: the job records that
 * it sent one (through the runner's job writes) before the call, and a later run — a retry
 * after a timeout or a reset, or the run after a stall — first checks whether it landed
 * (`CME_ACTION_IDEMPOTENCY`).
 */
export class CmeProcessor implements StepProcessor<CmeJobData, CmeResult> {
  readonly #operations: Operations;

  constructor(operations: Operations) {
    this.#operations = operations;
  }

  async run(context: StepContext<CmeJobData>): Promise<CmeStep> {
    const { job, signal } = context;
    let parsed: ParsedCmeOperationRequest;
    try {
      parsed = parseCmeOperationRequest(job.data.operation);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return {
        type: 'fail',
        error: new AtelierError(
          `invalid CME payload: ${error.issues.map((i) => i.message).join('; ')}`,
          { code: 'INVALID_PAYLOAD', details: { issues: error.issues } },
        ),
      };
    }
    const operation: CmeOperation = {
      userId: parsed.userId,
      action: parsed.action,
      params: parsed.params,
    };
    if (CME_ACTION_IDEMPOTENCY[operation.action] === 'create') {
      return this.#createOnce(context, operation);
    }
    return stepOf(await this.#operations.run(operation, signal));
  }

  async #createOnce(context: StepContext<CmeJobData>, operation: CmeOperation): Promise<CmeStep> {
    const { job, signal } = context;
    const sent = job.data.state ?? {};
    if (sent.createSentAt !== undefined) {
      // An earlier run sent this create and may never have heard back: did it land?
      const found = await this.#operations.findCreated(operation, signal);
      if (found.kind === 'failed') return { type: 'retry', error: found.error };
      if (found.kind === 'ok' && found.value !== undefined) {
        return { type: 'complete', result: found.value };
      }
    }
    await context.save({
      ...job.data,
      state: { createSentAt: Date.now(), createsSent: (sent.createsSent ?? 0) + 1 },
    });
    const outcome = await this.#operations.run(operation, signal);
    if (
      sent.createSentAt !== undefined &&
      outcome.kind === 'failed' &&
      outcome.error.kind === 'terminal'
    ) {
      // Refused (the name taken?) after an earlier send: that one may have landed since the
      // check (a stalled worker's call answered late). Look once more before giving up.
      const found = await this.#operations.findCreated(operation, signal);
      if (found.kind === 'ok' && found.value !== undefined) {
        return { type: 'complete', result: found.value };
      }
    }
    return stepOf(outcome);
  }
}

function stepOf(outcome: Outcome<CmeResult>): CmeStep {
  if (outcome.kind === 'ok') return { type: 'complete', result: outcome.value };
  if (outcome.kind === 'pending') throw new Error('a CME operation cannot be pending');
  return { type: 'retry', error: outcome.error };
}
