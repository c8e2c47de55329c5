import { describe, expect, it } from 'vitest';
import { CALLBACK_HEADERS, callbackHeaders, signCallback, verifyCallback } from '../src/index.ts';

const SECRET = 'test-secret';
const T = 1_700_000_000;
const BODY = '{"event":"job.completed","id":"d_1","result":{"images":["https://x/1.png"]}}';
const AT_T = T * 1000;

function signed(overrides: { body?: string; secret?: string; timestampSec?: number } = {}) {
  const body = overrides.body ?? BODY;
  const headers = callbackHeaders({
    secret: overrides.secret ?? SECRET,
    deliveryId: 'd_1.completed.0',
    event: 'job.completed',
    body,
    timestampSec: overrides.timestampSec ?? T,
  });
  // What a Node receiver sees: lower-cased header names.
  const received = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return { body, headers, received };
}

describe('signCallback', () => {
  it('is hex HMAC-SHA256 over "<timestamp>.<body>" (vector from openssl)', () => {
    // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'test-secret'
    expect(signCallback(SECRET, T, '{"a":1}')).toBe(
      '8cb2c3355fca388e9ac2caec004f4d5d7045d74937ab5faad61dc11682247a9f',
    );
  });

  it('puts the signature, timestamp, event and delivery id in the X-Atelier headers', () => {
    const { headers } = signed();
    expect(headers).toEqual({
      [CALLBACK_HEADERS.timestamp]: String(T),
      [CALLBACK_HEADERS.signature]: `v1=${signCallback(SECRET, T, BODY)}`,
      [CALLBACK_HEADERS.event]: 'job.completed',
      [CALLBACK_HEADERS.delivery]: 'd_1.completed.0',
    });
  });
});

describe('verifyCallback', () => {
  it('accepts what was signed (Node header record, string body)', () => {
    const { body, received } = signed();
    expect(verifyCallback({ secret: SECRET, headers: received, body, now: AT_T })).toEqual({
      ok: true,
      deliveryId: 'd_1.completed.0',
      event: 'job.completed',
      timestampSec: T,
    });
  });

  it('accepts a fetch Headers object and raw bytes', () => {
    const { body, headers } = signed({ body: '{"text":"日本語 ✓"}' });
    const result = verifyCallback({
      secret: SECRET,
      headers: new Headers(headers),
      body: new TextEncoder().encode(body),
      now: AT_T,
    });
    expect(result.ok).toBe(true);
  });

  it.each([
    ['a changed body', { body: BODY.replace('d_1', 'd_2') }],
    ['a re-serialised body', { body: JSON.stringify(JSON.parse(BODY), null, 2) }],
    ['a changed timestamp', { timestamp: String(T + 1) }],
    ['another secret', { secret: 'other-secret' }],
  ])('rejects %s', (_name, change: { body?: string; timestamp?: string; secret?: string }) => {
    const { received } = signed();
    const headers = { ...received };
    if (change.timestamp) headers['x-atelier-timestamp'] = change.timestamp;
    const result = verifyCallback({
      secret: change.secret ?? SECRET,
      headers,
      body: change.body ?? BODY,
      now: AT_T,
    });
    expect(result).toEqual({ ok: false, reason: 'signature_mismatch' });
  });

  it('rejects a flipped signature digit', () => {
    const { received } = signed();
    const signature = received['x-atelier-signature'] ?? '';
    const last = signature.at(-1) === '0' ? '1' : '0';
    const headers = { ...received, 'x-atelier-signature': `${signature.slice(0, -1)}${last}` };
    expect(verifyCallback({ secret: SECRET, headers, body: BODY, now: AT_T })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
  });

  it('rejects stale and future timestamps outside the tolerance, accepts its edges', () => {
    const { received } = signed();
    const verify = (now: number, toleranceSec?: number) =>
      verifyCallback({
        secret: SECRET,
        headers: received,
        body: BODY,
        now,
        ...(toleranceSec !== undefined ? { toleranceSec } : {}),
      });
    expect(verify(AT_T + 300_000).ok).toBe(true);
    expect(verify(AT_T + 301_000)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify(AT_T - 300_000).ok).toBe(true);
    expect(verify(AT_T - 301_000)).toEqual({ ok: false, reason: 'future_timestamp' });
    expect(verify(AT_T + 31_000, 30)).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('accepts any of several secrets (rotation) and any of several v1 entries', () => {
    const { received } = signed({ secret: 'new-secret' });
    const both = verifyCallback({
      secret: ['old-secret', 'new-secret'],
      headers: received,
      body: BODY,
      now: AT_T,
    });
    expect(both.ok).toBe(true);
    const listed = {
      ...received,
      'x-atelier-signature': `v1=${'0'.repeat(64)}, ${received['x-atelier-signature']}`,
    };
    expect(
      verifyCallback({ secret: 'new-secret', headers: listed, body: BODY, now: AT_T }).ok,
    ).toBe(true);
  });

  it.each([
    ['x-atelier-timestamp', undefined, 'missing_header'],
    ['x-atelier-delivery', undefined, 'missing_header'],
    ['x-atelier-event', '', 'missing_header'],
    ['x-atelier-signature', undefined, 'missing_header'],
    ['x-atelier-timestamp', '1700000000.5', 'malformed_timestamp'],
    ['x-atelier-signature', 'v0=abc', 'malformed_signature'],
    ['x-atelier-signature', `v1=${'z'.repeat(64)}`, 'malformed_signature'],
    ['x-atelier-signature', 'v1=abcd', 'malformed_signature'],
  ])('with %s = %j rejects: %s', (name, value, reason) => {
    const { received } = signed();
    const headers: Record<string, string | undefined> = { ...received, [name]: value };
    expect(verifyCallback({ secret: SECRET, headers, body: BODY, now: AT_T })).toEqual({
      ok: false,
      reason,
    });
  });
});
