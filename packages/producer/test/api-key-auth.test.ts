import { Secret } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { ApiKeyAuth } from '../src/http/api-key-auth.ts';

describe('ApiKeyAuth', () => {
  const auth = new ApiKeyAuth([new Secret('alpha-key'), new Secret('beta-key')]);

  it('accepts each configured key and tells them apart by a non-secret fingerprint', () => {
    const a = auth.authenticate('Bearer alpha-key');
    const b = auth.authenticate('bearer   beta-key');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).not.toBe(a);
    expect(a).not.toContain('alpha');
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic alpha-key',
    'Bearer alpha-key extra',
    'Bearer alpha-ke',
  ])('refuses %j with the same UNAUTHORIZED error', (header) => {
    expect(() => auth.authenticate(header)).toThrow(
      expect.objectContaining({
        code: 'UNAUTHORIZED',
        message: 'missing or invalid credentials: send Authorization: Bearer <API key>',
      }),
    );
  });
});
