import { describe, expect, it } from 'vitest';
import { type ApigVector, specVectors } from '../../../../test/fixtures/spec-vectors.ts';
import {
  canonicalQuery,
  canonicalUri,
  formatSdkDate,
  sha256Hex,
  signApigRequest,
} from '../../src/drawing/apig-signer.ts';

const vectors = specVectors.apig;

function vector(name: string): ApigVector {
  const found = vectors.find((v) => v.name === name);
  if (!found) throw new Error(`vector ${name} missing from vectors.json`);
  return found;
}

describe('signApigRequest: spec test vectors', () => {
  it('vector A (huawei-doc-example): hashed canonical request and Authorization', () => {
    const v = vector('huawei-doc-example');
    const signed = signApigRequest(v);
    expect(signed.hashedCanonicalRequest).toBe(v.hashedCanonicalRequest);
    expect(signed.authorization).toBe(v.authorization);
    expect(signed.sdkDate).toBe('20191115T033655Z');
    expect(signed.signedHeaders).toBe('content-type;host;x-sdk-date');
  });

  it('vector B (huawei-java-sdk-test): Authorization', () => {
    const v = vector('huawei-java-sdk-test');
    expect(signApigRequest(v).authorization).toBe(v.authorization);
  });

  it('vector C (form body with Chinese text): canonical query, body hash, Authorization', () => {
    const v = vector('form-body-with-chinese-text');
    const signed = signApigRequest(v);
    const lines = signed.canonicalRequest.split('\n');
    expect(lines[2]).toBe(v.canonicalQuery);
    expect(lines.at(-1)).toBe(v.bodySha256);
    expect(sha256Hex(Buffer.from(v.body, 'utf8'))).toBe(v.bodySha256);
    expect(signed.authorization).toBe(v.authorization);
  });

  it('vector C signs the same whether the body is a string or its bytes', () => {
    const v = vector('form-body-with-chinese-text');
    expect(signApigRequest({ ...v, body: Buffer.from(v.body, 'utf8') }).authorization).toBe(
      v.authorization,
    );
  });
});

describe('signApigRequest: canonical request rules', () => {
  const base = { appKey: 'k', appSecret: 's', body: '', headers: {} };

  it('lays out six lines, the header block ending in a newline, empty body hashed', () => {
    const signed = signApigRequest({
      ...base,
      method: 'post',
      url: 'https://h.example.com/a/b',
      headers: { 'Content-Type': ' text/plain ', 'X-Sdk-Date': '20240101T000000Z' },
    });
    expect(signed.canonicalRequest).toBe(
      [
        'POST',
        '/a/b/',
        '',
        'content-type:text/plain\nhost:h.example.com\nx-sdk-date:20240101T000000Z\n',
        'content-type;host;x-sdk-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
  });

  it('never signs authorization, always signs host and x-sdk-date', () => {
    const signed = signApigRequest({
      ...base,
      method: 'GET',
      url: 'https://h.example.com/',
      headers: { Authorization: 'old', 'X-Extra': 'v' },
      date: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    });
    expect(signed.signedHeaders).toBe('host;x-extra;x-sdk-date');
    expect(signed.sdkDate).toBe('20240102T030405Z');
    expect(signed.canonicalRequest).not.toContain('authorization');
  });

  it('takes the host from the URL with a non-default port only', () => {
    const at = (url: string) =>
      signApigRequest({ ...base, method: 'GET', url })
        .canonicalRequest.split('\n')
        .find((line) => line.startsWith('host:'));
    expect(at('https://h.example.com:443/')).toBe('host:h.example.com');
    expect(at('http://h.example.com:80/')).toBe('host:h.example.com');
    expect(at('https://h.example.com:8443/')).toBe('host:h.example.com:8443');
    expect(at('http://127.0.0.1:8080/')).toBe('host:127.0.0.1:8080');
  });

  it('formats X-Sdk-Date as YYYYMMDDTHHMMSSZ in UTC', () => {
    expect(formatSdkDate(new Date('2019-11-15T03:36:55.789Z'))).toBe('20191115T033655Z');
  });

  it('encodes each path segment per RFC 3986 and always ends in /', () => {
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('/app1')).toBe('/app1/');
    expect(canonicalUri('/app1/')).toBe('/app1/');
    expect(canonicalUri('/a%20b/%E7%8C%AB/x*y')).toBe('/a%20b/%E7%8C%AB/x%2Ay/');
    expect(canonicalUri("/~keep-_.it/!'()")).toBe('/~keep-_.it/%21%27%28%29/');
  });

  it('sorts the query by name in byte order, repeated names by value, keeps = and uses %20', () => {
    expect(canonicalQuery('')).toBe('');
    expect(canonicalQuery('?b=2&a=1&B=0')).toBe('B=0&a=1&b=2');
    expect(canonicalQuery('?x=2&x=10&x=1')).toBe('x=1&x=10&x=2');
    expect(canonicalQuery('?empty=&flag')).toBe('empty=&flag=');
    expect(canonicalQuery('?q=a%20b&r=a+b')).toBe('q=a%20b&r=a%2Bb');
    expect(canonicalQuery('?t=%E7%8C%AB~*')).toBe('t=%E7%8C%AB~%2A');
  });

  it('uses the X-Sdk-Date already in the headers instead of the clock', () => {
    const signed = signApigRequest({
      ...base,
      method: 'GET',
      url: 'https://h.example.com/',
      headers: { 'x-sdk-date': '20200101T000000Z' },
      date: new Date(Date.UTC(2030, 0, 1)),
    });
    expect(signed.sdkDate).toBe('20200101T000000Z');
  });
});
