import type { CmeOperation, Outcome } from '@atelier/shared';
import type { CmeCallEvent } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { PLATFORM, seedMaterials, startCmeHarness } from './cme-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const USER = 'user_001';
const owner = { Type: 'PERSON', Id: USER };

function failureOf(outcome: Outcome<unknown>) {
  if (outcome.kind !== 'failed') throw new Error(`expected a failure, got ${outcome.kind}`);
  return outcome.error;
}

describe('CmeOperationRunner against the simulator', () => {
  it('runs an action and returns its Data; fills Platform from config', async () => {
    const h = await startCmeHarness(ctx);
    seedMaterials(h.simulator, USER, 3);
    const outcome = await h.runner().run({
      userId: USER,
      action: 'Material/ListMedia',
      params: { ClassId: 0, Owner: owner },
    });
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect(outcome.value).toMatchObject({
      action: 'Material/ListMedia',
      userId: USER,
      outcome: 'done',
      data: { MaterialTotalCount: 3 },
    });
  });

  it('fills Platform in every SearchMaterial scope', async () => {
    const h = await startCmeHarness(ctx);
    seedMaterials(h.simulator, USER, 2);
    const outcome = await h.runner().run({
      userId: USER,
      action: 'Material/SearchMaterial',
      params: { SearchScopes: [{ Owner: owner }] },
    });
    expect(outcome).toMatchObject({ kind: 'ok', value: { data: { TotalCount: 2 } } });
  });

  it('an action without Data is done with no data', async () => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const outcome = await h.runner().run({
      userId: USER,
      action: 'Material/ModifyMaterial',
      params: { MaterialId: id, Name: 'renamed' },
    });
    expect(outcome).toEqual({
      kind: 'ok',
      value: { action: 'Material/ModifyMaterial', userId: USER, outcome: 'done' },
    });
    expect(h.simulator.materials()[0]?.BasicInfo.Name).toBe('renamed');
  });

  it('DescribeMaterials data comes back as both sets', async () => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const outcome = await h.runner().run({
      userId: USER,
      action: 'Material/DescribeMaterials',
      params: { MaterialIds: [id, 'missing'] },
    });
    if (outcome.kind !== 'ok') throw new Error(outcome.kind);
    const data = outcome.value.data as {
      MaterialInfoSet: unknown[];
      FailedMaterialInfoSet: unknown[];
    };
    expect(data.MaterialInfoSet).toHaveLength(1);
    expect(data.FailedMaterialInfoSet).toEqual([
      expect.objectContaining({
        MaterialId: 'missing',
        ErrorInfo: expect.objectContaining({ Code: 'InvalidParameterValue.MaterialId' }),
      }),
    ]);
  });

  it('deleting a material twice: done, then already gone', async () => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const runner = h.runner();
    const op: CmeOperation = {
      userId: USER,
      action: 'Material/DeleteMaterial',
      params: { MaterialId: id },
    };
    expect(await runner.run(op)).toMatchObject({ kind: 'ok', value: { outcome: 'done' } });
    expect(await runner.run(op)).toEqual({
      kind: 'ok',
      value: {
        action: 'Material/DeleteMaterial',
        userId: USER,
        outcome: 'already-gone',
        alreadyGone: true,
      },
    });
  });

  it('a missing material on modify stays terminal with the code and both messages', async () => {
    const h = await startCmeHarness(ctx);
    const outcome = await h.runner().run({
      userId: USER,
      action: 'Material/ModifyMaterial',
      params: { MaterialId: 'nope', Name: 'x' },
    });
    const error = failureOf(outcome);
    expect(error.kind).toBe('terminal');
    expect(error.code).toBe('InvalidParameterValue.MaterialId');
    expect(error.providerMessage).toBeTruthy();
    expect(error.providerEnglishMessage).toBeTruthy();
  });

  it.each([200, 401])(
    'auth failing even with a fresh ticket is terminal (auth answers with HTTP %i)',
    async (authFailureHttpStatus) => {
      const h = await startCmeHarness(ctx, { simulator: { authFailureHttpStatus } });
      const [id = ''] = seedMaterials(h.simulator, USER, 1);
      const runner = h.runner();
      expect(
        (
          await runner.run({
            userId: USER,
            action: 'Material/DescribeMaterials',
            params: { MaterialIds: [id] },
          })
        ).kind,
      ).toBe('ok');
      h.simulator.setFaults({
        forceAuthFailures: 10,
        forceAuthFailureCode: 'AuthFailure.TokenFailure',
      });
      const error = failureOf(
        await runner.run({
          userId: USER,
          action: 'Material/DescribeMaterials',
          params: { MaterialIds: [id] },
        }),
      );
      expect(error.kind).toBe('terminal');
      expect(error.code).toBe('AuthFailure.TokenFailure');
      expect(error.message).toMatch(/credentials|permissions/);
      expect(error.message).toContain('not an expired ticket');
      // One refresh for the retry, then no more.
      expect(h.simulator.counters().logins.total).toBe(2);
      expect(h.simulator.counters().authFailures).toBe(2);
    },
  );

  it('a single auth failure is healed by one refresh and one retry', async () => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const runner = h.runner();
    await runner.tickets.get(USER);
    h.simulator.setFaults({ forceAuthFailures: 1 });
    const outcome = await runner.run({
      userId: USER,
      action: 'Material/DescribeMaterials',
      params: { MaterialIds: [id] },
    });
    expect(outcome.kind).toBe('ok');
    expect(h.simulator.counters().logins.total).toBe(2);
    expect(h.simulator.counters().apiCalls.total).toBe(2);
  });

  it.each([
    ['InternalError', 'retryable', { code: 'InternalError' }, undefined],
    ['ServiceUnavailable', 'retryable', { code: 'ServiceUnavailable' }, undefined],
    ['ResourceUnavailable', 'retryable', { code: 'ResourceUnavailable' }, undefined],
    ['ResourceInsufficient', 'retryable', { code: 'ResourceInsufficient' }, undefined],
    ['RequestLimitExceeded', 'throttled', { code: 'RequestLimitExceeded' }, undefined],
    ['FailedOperation', 'retryable', { code: 'FailedOperation' }, 3],
    ['ResourceInUse', 'retryable', { code: 'ResourceInUse' }, 3],
    ['BrandNewCode', 'retryable', { code: 'BrandNewCode' }, 3],
    ['InvalidParameter', 'terminal', { code: 'InvalidParameter' }, undefined],
    ['MissingParameter', 'terminal', { code: 'MissingParameter' }, undefined],
    ['UnknownParameter', 'terminal', { code: 'UnknownParameter' }, undefined],
    ['ResourceNotFound', 'terminal', { code: 'ResourceNotFound' }, undefined],
    [
      'OperationDenied.PermissionDeny',
      'terminal',
      { code: 'OperationDenied.PermissionDeny' },
      undefined,
    ],
    ['UnauthorizedOperation', 'terminal', { code: 'UnauthorizedOperation' }, undefined],
    [
      'LimitExceeded.BillItemUserExceed',
      'terminal',
      { code: 'LimitExceeded.BillItemUserExceed' },
      undefined,
    ],
    ['InvalidAction', 'terminal', { code: 'InvalidAction' }, undefined],
    ['ActionOffline', 'terminal', { code: 'ActionOffline' }, undefined],
    ['RequestSizeLimitExceeded', 'terminal', { code: 'RequestSizeLimitExceeded' }, undefined],
    ['ResponseSizeLimitExceeded', 'terminal', { code: 'ResponseSizeLimitExceeded' }, undefined],
    ['UnsupportedOperation', 'terminal', { code: 'UnsupportedOperation' }, undefined],
    ['HTTP_503', 'retryable', { http: 503 }, undefined],
    ['MALFORMED_RESPONSE', 'retryable', { malformed: true as const }, undefined],
    ['NETWORK', 'retryable', { drop: true as const }, undefined],
  ])('%s → %s', async (code, kind, answer, retryLimit) => {
    const h = await startCmeHarness(ctx);
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const calls: CmeCallEvent[] = [];
    const runner = h.runner({ onCall: (e) => calls.push(e) });
    h.simulator.script('Material/ModifyMaterial', [answer]);
    const error = failureOf(
      await runner.run({
        userId: USER,
        action: 'Material/ModifyMaterial',
        params: { MaterialId: id, Name: 'n' },
      }),
    );
    expect(error.provider).toBe('cme');
    expect(error.kind).toBe(kind);
    expect(error.code).toBe(code);
    expect(error.retryLimit).toBe(retryLimit);
    expect(calls).toEqual([
      { operation: 'Material/ModifyMaterial', outcome: kind, code, durationMs: expect.any(Number) },
    ]);
  });

  it('a timeout → retryable TIMEOUT', async () => {
    const h = await startCmeHarness(ctx, { config: { requestTimeoutMs: 200 } });
    const [id = ''] = seedMaterials(h.simulator, USER, 1);
    const runner = h.runner();
    await runner.tickets.get(USER);
    h.simulator.script('Material/ModifyMaterial', [{ delayMs: 2000 }]);
    const error = failureOf(
      await runner.run({
        userId: USER,
        action: 'Material/ModifyMaterial',
        params: { MaterialId: id, Name: 'n' },
      }),
    );
    expect(error.kind).toBe('retryable');
    expect(error.code).toBe('TIMEOUT');
  });

  it('login failures come back as their outcome', async () => {
    const h = await startCmeHarness(ctx, { config: { platform: 'wrong_platform' } });
    const error = failureOf(
      await h
        .runner()
        .run({ userId: USER, action: 'Material/DeleteMaterial', params: { MaterialId: 'm' } }),
    );
    expect(error.kind).toBe('config');
    expect(error.code).toBe('InvalidParameterValue.Platform');
    expect(h.simulator.counters().apiCalls.total).toBe(0);
    expect(PLATFORM).not.toBe('wrong_platform');
  });

  it('an abort rejects with the job signal reason', async () => {
    const h = await startCmeHarness(ctx);
    const runner = h.runner();
    await runner.tickets.get(USER);
    h.simulator.setFaults({ delayMs: 2000 });
    const started = Date.now();
    const controller = new AbortController();
    const pending = runner.run(
      { userId: USER, action: 'Material/DeleteMaterial', params: { MaterialId: 'm' } },
      controller.signal,
    );
    // Abort while the call is in flight: the simulator holds its answer for 2 s.
    await waitFor(() => h.simulator.counters().apiCalls.total === 1, { what: 'the API call' });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
