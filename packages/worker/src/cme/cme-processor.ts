import {
  AtelierError,
  type CmeJobData,
  type CmeResult,
  type ParsedCmeOperationRequest,
  parseCmeOperationRequest,
  ValidationError,
} from '@atelier/shared';
import type { StepProcessor } from '../runtime/step.ts';
import type { CmeOperationRunner } from './cme-operation-runner.ts';

/**
 * A CME job: validate the operation again (a malformed payload never crashes a worker), run
 * it (ticket, rate limit, one refresh-and-retry on auth, idempotent delete), and hand the
 * outcome to the job runner.
 */
export function createCmeProcessor(
  runner: Pick<CmeOperationRunner, 'run'>,
): StepProcessor<CmeJobData, CmeResult> {
  return async ({ job, signal }) => {
    let operation: ParsedCmeOperationRequest;
    try {
      operation = parseCmeOperationRequest(job.data.operation);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return {
        type: 'fail',
        error: new AtelierError(
          `invalid CME payload: ${error.issues.map((i) => i.message).join('; ')}`,
          {
            code: 'INVALID_PAYLOAD',
            details: { issues: error.issues },
          },
        ),
      };
    }
    const outcome = await runner.run(
      { userId: operation.userId, action: operation.action, params: operation.params },
      signal,
    );
    if (outcome.kind === 'ok') return { type: 'done', result: outcome.value };
    if (outcome.kind === 'pending') {
      throw new Error('a CME operation cannot be pending');
    }
    return { type: 'fail', error: outcome.error };
  };
}
