import { isProviderError, type Outcome, outcomeLabel } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import {
  classifyCmeCode,
  classifyLoginCode,
  cmeAlreadyGone,
  cmeApiOutcome,
  cmeAuthPersistsOutcome,
  cmeLoginOutcome,
  cmeRateLimitedOutcome,
  cmeTransportOutcome,
  createdClassIn,
  describeMaterialsData,
  RATE_LIMIT_BACKOFF_MS,
  RETRY_A_LITTLE_LIMIT,
} from '../../src/cme/cme-answers.ts';

const json = (value: unknown, status = 200) => ({ status, body: JSON.stringify(value) });

function errorOf(outcome: Outcome<unknown>) {
  if (outcome.kind !== 'failed') throw new Error(`expected a failure, got ${outcome.kind}`);
  expect(isProviderError(outcome.error)).toBe(true);
  expect(outcome.error.provider).toBe('cme');
  return outcome.error;
}

describe('classifyCmeCode (the spec table, row by row)', () => {
  it.each([
    'AuthFailure',
    'AuthFailure.SessionInvalid',
    'AuthFailure.InvalidAuthorization',
    'AuthFailure.TokenFailure',
    'AuthFailure.SignatureExpire',
  ])('%s → auth', (code) => {
    expect(classifyCmeCode(code)).toEqual({ kind: 'auth' });
  });

  it.each([
    'InternalError',
    'InternalError.DbError',
    'ServiceUnavailable',
    'ResourceUnavailable',
    'ResourceInsufficient',
  ])('%s → retryable (no limit)', (code) => {
    expect(classifyCmeCode(code)).toEqual({ kind: 'retryable' });
  });

  it.each(['RequestLimitExceeded', 'RequestLimitExceeded.UinLimitExceeded'])(
    '%s → throttled with a one-second hint',
    (code) => {
      expect(classifyCmeCode(code)).toEqual({
        kind: 'throttled',
        retryAfterMs: RATE_LIMIT_BACKOFF_MS,
      });
    },
  );

  it.each([
    'FailedOperation',
    'FailedOperation.Unknown',
    'ResourceInUse',
    'SomethingNew',
    'Succes',
  ])('%s → retryable a little', (code) => {
    expect(classifyCmeCode(code)).toEqual({ kind: 'retryable', retryLimit: RETRY_A_LITTLE_LIMIT });
  });

  it.each([
    'InvalidParameter',
    'InvalidParameter.Owner',
    'InvalidParameterValue',
    'InvalidParameterValue.MaterialId',
    'MissingParameter',
    'UnknownParameter',
    'ResourceNotFound',
    'ResourceNotFound.Material',
    'OperationDenied',
    'OperationDenied.PermissionDeny',
    'UnauthorizedOperation',
    'LimitExceeded',
    'LimitExceeded.BillItemUserExceed',
    'InvalidAction',
    'ActionOffline',
    'RequestSizeLimitExceeded',
    'ResponseSizeLimitExceeded',
    'UnsupportedOperation',
    'UnsupportedRegion',
  ])('%s → terminal', (code) => {
    expect(classifyCmeCode(code)).toEqual({ kind: 'terminal' });
  });
});

describe('cmeApiOutcome', () => {
  it('Success → ok with Data', () => {
    const outcome = cmeApiOutcome(
      'Material/CreateClass',
      json({ Code: 'Success', Message: '成功', EnglishMessage: 'success', Data: { ClassId: 7 } }),
    );
    expect(outcome).toEqual({ kind: 'ok', value: { ClassId: 7 } });
  });

  it('Success without Data → ok with undefined', () => {
    expect(cmeApiOutcome('Material/DeleteMaterial', json({ Code: 'Success' }))).toEqual({
      kind: 'ok',
      value: undefined,
    });
  });

  it('a failure code keeps the code, both messages and the HTTP status', () => {
    const error = errorOf(
      cmeApiOutcome(
        'Material/DeleteMaterial',
        json({
          Code: 'InvalidParameterValue.MaterialId',
          Message: '媒体不存在',
          EnglishMessage: 'material not exist',
        }),
      ),
    );
    expect(error.kind).toBe('terminal');
    expect(error.code).toBe('InvalidParameterValue.MaterialId');
    expect(error.providerMessage).toBe('媒体不存在');
    expect(error.providerEnglishMessage).toBe('material not exist');
    expect(error.httpStatus).toBe(200);
    expect(error.message).toContain('material not exist');
    expect(Object.keys(error)).not.toContain('response');
  });

  it('the code decides over the HTTP status', () => {
    const error = errorOf(
      cmeApiOutcome('Material/ListMedia', json({ Code: 'InternalError' }, 500)),
    );
    expect(error.kind).toBe('retryable');
    expect(error.code).toBe('InternalError');
    expect(error.httpStatus).toBe(500);
  });

  it('retry-a-little codes carry the limit', () => {
    const error = errorOf(cmeApiOutcome('x', json({ Code: 'FailedOperation' })));
    expect(error.kind).toBe('retryable');
    expect(error.retryLimit).toBe(RETRY_A_LITTLE_LIMIT);
  });

  it('RequestLimitExceeded → throttled with a retry hint', () => {
    const error = errorOf(cmeApiOutcome('x', json({ Code: 'RequestLimitExceeded' })));
    expect(error.kind).toBe('throttled');
    expect(error.retryAfterMs).toBe(RATE_LIMIT_BACKOFF_MS);
    expect(error.retryable).toBe(true);
  });

  it('AuthFailure → auth', () => {
    expect(outcomeLabel(cmeApiOutcome('x', json({ Code: 'AuthFailure.SessionInvalid' })))).toBe(
      'auth',
    );
  });

  it('the cloud-API error envelope is understood too', () => {
    const error = errorOf(
      cmeApiOutcome(
        'x',
        json({ Response: { Error: { Code: 'ResourceNotFound', Message: 'no' } } }),
      ),
    );
    expect(error.kind).toBe('terminal');
    expect(error.providerMessage).toBe('no');
  });

  it.each([401, 403])('HTTP %i without a code → auth', (status) => {
    const error = errorOf(cmeApiOutcome('x', { status, body: 'Unauthorized' }));
    expect(error.kind).toBe('auth');
    expect(error.code).toBe(`HTTP_${status}`);
  });

  it.each([500, 502, 503, 504])('HTTP %i without a code → retryable', (status) => {
    const error = errorOf(cmeApiOutcome('x', { status, body: '<html>bad gateway</html>' }));
    expect(error.kind).toBe('retryable');
    expect(error.code).toBe(`HTTP_${status}`);
  });

  it.each(['not json', '', '[]', '{"Data":{}}', 'null'])(
    'malformed body %j → retryable',
    (body) => {
      const error = errorOf(cmeApiOutcome('x', { status: 200, body }));
      expect(error.kind).toBe('retryable');
      expect(error.code).toBe('MALFORMED_RESPONSE');
    },
  );
});

describe('cmeTransportOutcome', () => {
  it('network errors → retryable NETWORK', () => {
    const error = errorOf(
      cmeTransportOutcome('CME x', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })),
    );
    expect(error.kind).toBe('retryable');
    expect(error.code).toBe('NETWORK');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('timeouts → retryable TIMEOUT', () => {
    const timeout = Object.assign(new Error('Timeout awaiting request'), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    const error = errorOf(cmeTransportOutcome('CME x', timeout));
    expect(error.kind).toBe('retryable');
    expect(error.code).toBe('TIMEOUT');
  });
});

describe('cmeLoginOutcome', () => {
  const who = { platform: 'p1', userId: 'u1', obtainedAt: 1234 };

  it('accepts the new shape', () => {
    const outcome = cmeLoginOutcome(
      json({
        Response: {
          AppId: 1200000001,
          Authorization: 'tf_new',
          Platform: 'p1',
          RequestId: 'r',
          TfUid: 'tf-uid-1',
        },
      }),
      who,
    );
    expect(outcome).toEqual({
      kind: 'ok',
      value: { authorization: 'tf_new', tfUid: 'tf-uid-1', appId: 1200000001, ...who },
    });
  });

  it('accepts the old shape, whatever the HTTP status', () => {
    const outcome = cmeLoginOutcome(
      json(
        {
          Code: 'Success',
          Message: '成功',
          EnglishMessage: 'OK',
          Data: { AppId: 123, Platform: 'p1', UserId: 'u1', Authorization: 'tf_old' },
        },
        201,
      ),
      who,
    );
    expect(outcome).toEqual({
      kind: 'ok',
      value: { authorization: 'tf_old', appId: 123, ...who },
    });
  });

  it('new-shape failure InvalidParameterValue.Platform → config', () => {
    const error = errorOf(
      cmeLoginOutcome(
        json({
          Response: {
            Error: { Code: 'InvalidParameterValue.Platform', Message: 'platform not exist' },
            RequestId: 'r',
          },
        }),
        who,
      ),
    );
    expect(error.kind).toBe('config');
    expect(error.code).toBe('InvalidParameterValue.Platform');
    expect(error.providerMessage).toBe('platform not exist');
    expect(error.message).toContain('CME_PLATFORM');
  });

  it('old-shape failure SignatureVerifyFail → config, even with HTTP 200', () => {
    const error = errorOf(
      cmeLoginOutcome(
        json({
          Code: 'SignatureVerifyFail',
          Message: '签名校验失败',
          EnglishMessage: 'Signature Verify Fail',
        }),
        who,
      ),
    );
    expect(error.kind).toBe('config');
    expect(error.code).toBe('SignatureVerifyFail');
    expect(error.providerEnglishMessage).toBe('Signature Verify Fail');
  });

  it('transient login codes → retryable; other codes follow the table', () => {
    expect(outcomeLabel(cmeLoginOutcome(json({ Code: 'InternalError' }), who))).toBe('retryable');
    expect(
      outcomeLabel(
        cmeLoginOutcome(
          json({ Response: { Error: { Code: 'AuthFailure.SecretIdNotFound' } } }),
          who,
        ),
      ),
    ).toBe('config');
    expect(outcomeLabel(cmeLoginOutcome(json({ Code: 'InvalidParameterValue.UserId' }), who))).toBe(
      'terminal',
    );
    expect(classifyLoginCode('AuthFailure.SessionInvalid').kind).toBe('config');
  });

  it.each([
    ['not json', 200, 'MALFORMED_RESPONSE'],
    ['<html/>', 502, 'HTTP_502'],
    ['{"Response":{"RequestId":"r"}}', 200, 'MALFORMED_RESPONSE'],
    ['{"Code":"Success","Data":{}}', 200, 'MALFORMED_RESPONSE'],
    ['{"Code":"Success"}', 200, 'MALFORMED_RESPONSE'],
    ['{"Response":{"Authorization":""}}', 200, 'MALFORMED_RESPONSE'],
  ])('malformed %j (HTTP %i) → retryable %s', (body, status, code) => {
    const error = errorOf(cmeLoginOutcome({ status, body }, who));
    expect(error.kind).toBe('retryable');
    expect(error.code).toBe(code);
  });
});

describe('describeMaterialsData', () => {
  const info = { BasicInfo: { MaterialId: 'm1' }, MediaInfo: {} };

  it('passes the documented sets through', () => {
    const failed = { MaterialId: 'm2', ErrorInfo: { Code: 'x' } };
    expect(
      describeMaterialsData({ MaterialInfoSet: [info], FailedMaterialInfoSet: [failed] }),
    ).toEqual({
      MaterialInfoSet: [info],
      FailedMaterialInfoSet: [failed],
    });
  });

  it('wraps a single object given as the set', () => {
    expect(describeMaterialsData({ MaterialInfoSet: info })).toEqual({
      MaterialInfoSet: [info],
      FailedMaterialInfoSet: [],
    });
  });

  it('accepts the flat object of the doc example', () => {
    expect(describeMaterialsData(info)).toEqual({
      MaterialInfoSet: [info],
      FailedMaterialInfoSet: [],
    });
  });

  it('accepts a bare array and nothing at all', () => {
    expect(describeMaterialsData([info]).MaterialInfoSet).toEqual([info]);
    expect(describeMaterialsData(undefined)).toEqual({
      MaterialInfoSet: [],
      FailedMaterialInfoSet: [],
    });
  });
});

describe('operation-level answers', () => {
  const gone = cmeApiOutcome(
    'Material/DeleteMaterial',
    json({ Code: 'InvalidParameterValue.MaterialId', EnglishMessage: 'material not exist' }),
  );

  it('DeleteMaterial of a missing material is already gone; nothing else is', () => {
    expect(cmeAlreadyGone('Material/DeleteMaterial', gone)).toBe(true);
    expect(cmeAlreadyGone('Material/ModifyMaterial', gone)).toBe(false);
    expect(
      cmeAlreadyGone(
        'Material/DeleteMaterial',
        cmeApiOutcome('x', json({ Code: 'InvalidParameterValue.ClassId' })),
      ),
    ).toBe(false);
  });

  it('DeleteClass of a missing class is already gone; a class missing elsewhere is not', () => {
    const classGone = cmeApiOutcome(
      'Material/DeleteClass',
      json({ Code: 'InvalidParameterValue.ClassId', EnglishMessage: 'class not exist' }),
    );
    expect(cmeAlreadyGone('Material/DeleteClass', classGone)).toBe(true);
    expect(cmeAlreadyGone('Material/ModifyClass', classGone)).toBe(false);
    expect(cmeAlreadyGone('Material/CreateClass', classGone)).toBe(false);
    expect(
      cmeAlreadyGone(
        'Material/DeleteClass',
        cmeApiOutcome('x', json({ Code: 'FailedOperation.ClassNotEmpty' })),
      ),
    ).toBe(false);
  });

  it('createdClassIn finds the class of that name in a DescribeClass answer, as CreateClass Data', () => {
    const data = {
      PathInfoSet: [],
      ClassInfoSet: [
        { Name: 'Other', ClassId: 3, ParentClassId: 1 },
        { Name: 'Trips', ClassId: '7', ParentClassId: 1 },
      ],
    };
    expect(createdClassIn(data, 'Trips')).toEqual({ ClassId: 7 });
    expect(createdClassIn(data, 'trips')).toBeUndefined();
    expect(createdClassIn({ ClassInfoSet: { Name: 'Trips', ClassId: 9 } }, 'Trips')).toEqual({
      ClassId: 9,
    });
    expect(createdClassIn({ ClassInfoSet: [{ Name: 'Trips', ClassId: 'x' }] }, 'Trips')).toBe(
      undefined,
    );
    expect(createdClassIn(undefined, 'Trips')).toBeUndefined();
  });

  it('our own rate limit → throttled with the wait as hint', () => {
    const error = errorOf(cmeRateLimitedOutcome('Material', 2500));
    expect(error.kind).toBe('throttled');
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBe(2500);
  });

  it('auth persisting with a fresh ticket → terminal, code and messages kept, says credentials', () => {
    const auth = errorOf(
      cmeApiOutcome(
        'Material/ListMedia',
        json(
          {
            Code: 'AuthFailure.SessionInvalid',
            Message: '会话无效',
            EnglishMessage: 'session invalid',
          },
          200,
        ),
      ),
    );
    const error = errorOf(cmeAuthPersistsOutcome('Material/ListMedia', auth));
    expect(error.kind).toBe('terminal');
    expect(error.code).toBe('AuthFailure.SessionInvalid');
    expect(error.providerMessage).toBe('会话无效');
    expect(error.providerEnglishMessage).toBe('session invalid');
    expect(error.message).toMatch(/credentials/);
    expect(error.message).toMatch(/permissions/);
  });
});
