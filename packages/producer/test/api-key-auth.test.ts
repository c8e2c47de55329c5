import { Secret } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { ApiKeyAuth } from '../src/http/api-key-auth.ts';

describe('ApiKeyAuth', () => {
  const auth = new ApiKeyAuth({
    api: [
      { tenant: 'default', token: new Secret('alpha-key') },
      { tenant: 'acme', token: new Secret('beta-key') },
      { tenant: 'acme', token: new Secret('beta-key-next') },
    ],
    admin: [{ tenant: 'ops', token: new Secret('gamma-key') }],
  });

  it('accepts each configured key and tells them apart by a non-secret fingerprint', () => {
    const a = auth.authenticate('Bearer alpha-key');
    const b = auth.authenticate('bearer   beta-key');
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(b.fingerprint).not.toBe(a.fingerprint);
    expect(JSON.stringify([a, b])).not.toContain('alpha');
  });

  it('names the tenant each key acts for, and whether it is an admin key', () => {
    expect(auth.authenticate('Bearer alpha-key')).toMatchObject({
      tenant: 'default',
      admin: false,
    });
    expect(auth.authenticate('Bearer beta-key')).toMatchObject({ tenant: 'acme', admin: false });
    expect(auth.authenticate('Bearer beta-key-next')).toMatchObject({
      tenant: 'acme',
      admin: false,
    });
    expect(auth.authenticate('Bearer gamma-key')).toMatchObject({ tenant: 'ops', admin: true });
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic alpha-key',
    'Bearer alpha-key extra',
    'Bearer alpha-ke',
    'Bearer acme:beta-key',
  ])('refuses %j with the same UNAUTHORIZED error', (header) => {
    expect(() => auth.authenticate(header)).toThrow(
      expect.objectContaining({
        code: 'UNAUTHORIZED',
        message: 'missing or invalid credentials: send Authorization: Bearer <API key>',
      }),
    );
  });
});
