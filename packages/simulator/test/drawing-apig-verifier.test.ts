import { describe, expect, it } from 'vitest';
import { type ApigVector, specVectors } from '../../../test/fixtures/spec-vectors.ts';
import {
  type ApigRequest,
  apigCanonicalQuery,
  apigCanonicalRequest,
  apigCanonicalUri,
  sha256Hex,
} from '../src/drawing/apig-canonical-request.ts';
import { parseSdkDate, verifyApigRequest } from '../src/drawing/apig-verifier.ts';

type Vector = ApigVector;
const vectors = specVectors.apig;

function requestOf(vector: Vector, change: Partial<Vector> = {}): ApigRequest {
  const v = { ...vector, ...change };
  const url = new URL(v.url);
  const headers: Record<string, string> = { host: url.host, authorization: v.authorization };
  for (const [name, value] of Object.entries(v.headers)) headers[name.toLowerCase()] = value;
  return {
    method: v.method,
    rawPath: url.pathname,
    rawQuery: url.search.slice(1),
    headers,
    body: Buffer.from(v.body),
  };
}

function verify(vector: Vector, change: Partial<Vector> = {}) {
  const request = requestOf(vector, change);
  return verifyApigRequest(request, {
    apps: { [vector.appKey]: vector.appSecret },
    nowMs: parseSdkDate(vector.headers['X-Sdk-Date'] as string) as number,
    maxClockSkewMs: 15 * 60_000,
  });
}

/** Changes one character of the signature (the last hex digit). */
function tamperSignature(authorization: string): string {
  const last = authorization.at(-1) === '0' ? '1' : '0';
  return `${authorization.slice(0, -1)}${last}`;
}

describe('APIG SDK-HMAC-SHA256 verifier', () => {
  it('loads all three vectors', () => {
    expect(vectors.map((v) => v.name)).toHaveLength(3);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('accepts vector %s', (_, vector) => {
    expect(verify(vector)).toEqual({ ok: true, appKey: vector.appKey });
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    'rejects vector %s with one character changed',
    (_, vector) => {
      expect(
        verify(vector, { authorization: tamperSignature(vector.authorization) }),
      ).toMatchObject({ ok: false, reason: expect.stringMatching(/^verify aksk signature fail/) });
      const url = vector.url.replace(/:\/\/./, '://z'); // first letter of the host
      expect(verify(vector, { url })).toMatchObject({ ok: false });
      expect(verify(vector, { url: vector.url.replace('=2', '=3') })).toMatchObject({ ok: false });
      expect(verify(vector, { body: `${vector.body}x` })).toMatchObject({ ok: false });
      const date = (vector.headers['X-Sdk-Date'] as string).replace(
        /(\d)Z$/,
        (_, d: string) => `${(Number(d) + 1) % 10}Z`,
      );
      expect(verify(vector, { headers: { ...vector.headers, 'X-Sdk-Date': date } })).toMatchObject({
        ok: false,
      });
    },
  );

  it('builds the canonical request the vectors were signed over', () => {
    const [a, , c] = vectors as [Vector, Vector, Vector];
    const signed = ['content-type', 'host', 'x-sdk-date'];
    expect(sha256Hex(apigCanonicalRequest(requestOf(a), signed))).toBe(a.hashedCanonicalRequest);
    expect(apigCanonicalQuery(new URL(c.url).search.slice(1))).toBe(c.canonicalQuery);
    expect(sha256Hex(Buffer.from(c.body))).toBe(c.bodySha256);
    expect(apigCanonicalUri('')).toBe('/');
    expect(apigCanonicalUri('/app1')).toBe('/app1/');
    expect(apigCanonicalUri('/a%20b/c*d/')).toBe('/a%20b/c%2Ad/');
    expect(apigCanonicalQuery('b=2&a&a=1&B=3')).toBe('B=3&a=&a=1&b=2');
  });

  it('echoes the canonical request with | for newlines on a mismatch', () => {
    const [a] = vectors as [Vector];
    const verdict = verify(a, { authorization: tamperSignature(a.authorization) });
    expect(verdict).toEqual({
      ok: false,
      reason:
        'verify aksk signature fail, canonicalRequest: GET|/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/|' +
        'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0|content-type:application/json|' +
        'host:service.region.example.com|x-sdk-date:20191115T033655Z||content-type;host;x-sdk-date|' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
  });

  it('refuses unknown keys, stale dates and incomplete signed headers', () => {
    const [a] = vectors as [Vector];
    const request = requestOf(a);
    const signedAt = parseSdkDate('20191115T033655Z') as number;
    const check = (apps: Record<string, string>, nowMs: number, r = request) =>
      verifyApigRequest(r, { apps, nowMs, maxClockSkewMs: 15 * 60_000 });
    const apps = { [a.appKey]: a.appSecret };
    expect(check({ other: 'x' }, signedAt)).toMatchObject({ ok: false, reason: /app key/ });
    expect(check(apps, signedAt + 15 * 60_000)).toMatchObject({ ok: true });
    expect(check(apps, signedAt + 15 * 60_000 + 1000)).toMatchObject({
      ok: false,
      reason: /X-Sdk-Date/,
    });
    expect(check(apps, signedAt - 16 * 60_000)).toMatchObject({ ok: false, reason: /X-Sdk-Date/ });
    const noHost = {
      ...request,
      headers: {
        ...request.headers,
        authorization: a.authorization.replace(
          'content-type;host;x-sdk-date',
          'content-type;x-sdk-date',
        ),
      },
    };
    expect(check(apps, signedAt, noHost)).toMatchObject({ ok: false, reason: /must include host/ });
    const noDate = { ...request, headers: { ...request.headers, 'x-sdk-date': undefined } };
    expect(check(apps, signedAt, noDate)).toMatchObject({ ok: false, reason: /X-Sdk-Date/ });
    const noAuth = { ...request, headers: { ...request.headers, authorization: undefined } };
    expect(check(apps, signedAt, noAuth)).toMatchObject({ ok: false, reason: /Authorization/ });
  });

  it('parses X-Sdk-Date strictly', () => {
    expect(parseSdkDate('20191115T033655Z')).toBe(Date.UTC(2019, 10, 15, 3, 36, 55));
    expect(parseSdkDate('20190230T000000Z')).toBeUndefined();
    expect(parseSdkDate('2019-11-15T03:36:55Z')).toBeUndefined();
  });
});
