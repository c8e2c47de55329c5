import {
  AtelierError,
  type CmeJobData,
  type CmeResult,
  type ParsedCmeOperationRequest,
  parseCmeOperationRequest,
  ValidationError,
} from '@atelier/shared';
import type { Step, StepContext, StepProcessor } from '../runtime/step.ts';
import type { CmeOperationRunner } from './cme-operation-runner.ts';

/**
 * A CME job: validate the operation again (a malformed payload never crashes a worker), run
 * it (ticket, rate limit, one refresh-and-retry on auth, idempotent delete), and hand the
 * outcome to the step runner.
 */
export class CmeProcessor implements StepProcessor<CmeJobData, CmeResult> {
  readonly #operations: Pick<CmeOperationRunner, 'run'>;

  constructor(operations: Pick<CmeOperationRunner, 'run'>) {
    this.#operations = operations;
  }

  async run({ job, signal }: StepContext<CmeJobData>): Promise<Step<CmeJobData, CmeResult>> {
    let operation: ParsedCmeOperationRequest;
    try {
      operation = parseCmeOperationRequest(job.data.operation);
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
    const outcome = await this.#operations.run(
      { userId: operation.userId, action: operation.action, params: operation.params },
      signal,
    );
    if (outcome.kind === 'ok') return { type: 'complete', result: outcome.value };
    if (outcome.kind === 'pending') throw new Error('a CME operation cannot be pending');
    return { type: 'retry', error: outcome.error };
  }
}
