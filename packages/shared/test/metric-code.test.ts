import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { metricCode } from '../src/index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(root, dir, file), 'utf8'));
}

describe('metricCode: a bounded label for a failure code', () => {
  it.each([
    // drawing spec: business and gateway codes
    '200',
    '201',
    '202',
    '400',
    '500',
    '501',
    '999',
    'APIGW.0308',
    'APIGW.0501',
    'APIGW.0502',
    'APIG.0303',
    // CME spec: named codes and the bare families
    'Success',
    'AuthFailure.SessionInvalid',
    'AuthFailure.SignatureExpire',
    'InvalidParameterValue.MaterialId',
    'InvalidParameterValue.Platform',
    'OperationDenied.PermissionDeny',
    'SignatureVerifyFail',
    'ResourceInUse',
    'InternalError',
    'LimitExceeded',
    // Atelier's own
    'TIMEOUT',
    'NETWORK',
    'MALFORMED_RESPONSE',
    'SUBMIT_UNCONFIRMED',
    'POLL_TIMEOUT',
    'HTTP_404',
    'HTTP_503',
    'STATUS_9',
    'CALLBACK_HTTP_410',
    'STALLED_LIMIT',
  ])('%s is known: kept as it is', (code) => {
    expect(metricCode(code)).toBe(code);
  });

  it.each([
    ['InvalidParameterValue.Colour', 'InvalidParameterValue.other'],
    ['AuthFailure.Whatever123', 'AuthFailure.other'],
    ['FailedOperation.ClassNotEmpty', 'FailedOperation.other'],
    ['LimitExceeded.BillItemUserVideoEditExport', 'LimitExceeded.other'],
    ['ResourceNotFound.Material', 'ResourceNotFound.other'],
  ])('%s, an unlisted member of a family the CME spec names, counts as %s', (code, label) => {
    expect(metricCode(code)).toBe(label);
  });

  it.each([
    '777',
    'APIGW.0999',
    'Weird.NewCode',
    'STATUS_12345',
    'HTTP_999',
    `X${'y'.repeat(500)}`,
    'ECONNRESET',
    '',
    'timeout',
  ])('%s is unknown: other', (code) => {
    expect(metricCode(code)).toBe('other');
  });

  it("every code literal the worker and shared sources raise is known (a new one must be added to Atelier's list)", () => {
    const literals = new Set<string>();
    for (const text of [...sources('packages/worker/src'), ...sources('packages/shared/src')]) {
      for (const match of text.matchAll(/\bcode: '([A-Z][A-Z0-9_]+)'/g))
        literals.add(match[1] ?? '');
      for (const match of text.matchAll(/, '([A-Z][A-Z0-9_]+_LIMIT)'\]/g))
        literals.add(match[1] ?? '');
    }
    expect(literals.size).toBeGreaterThan(10);
    expect([...literals].filter((code) => metricCode(code) !== code)).toEqual([]);
  });
});
