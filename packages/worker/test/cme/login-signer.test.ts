import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { specVectors } from '../../../../test/fixtures/spec-vectors.ts';
import {
  buildLoginFields,
  type LoginSignatureFields,
  loginSignatureOriginal,
  signLogin,
} from '../../src/cme/login-signer.ts';

const vectors = specVectors;

function split(signature: string): { mac: Buffer; original: string } {
  const raw = Buffer.from(signature, 'base64');
  return { mac: raw.subarray(0, 20), original: raw.subarray(20).toString('utf8') };
}

describe('signLogin', () => {
  it('has both published vectors to check against', () => {
    expect(vectors.cmeLogin.map((v) => v.name)).toEqual([
      'template-order',
      'escaped-user-id-max-random',
    ]);
  });

  for (const vector of vectors.cmeLogin) {
    it(`matches vector ${vector.name}: original, HMAC and signature`, () => {
      expect(loginSignatureOriginal(vector.fields)).toBe(vector.original);
      const signature = signLogin(vector.fields, vector.secretKey);
      expect(signature).toBe(vector.signature);
      const { mac, original } = split(signature);
      expect(mac.toString('hex')).toBe(vector.hmacSha1Hex);
      expect(original).toBe(vector.original);
    });
  }

  it('round-trips on random inputs: the first 20 bytes are HMAC-SHA1 of the rest', () => {
    for (let i = 0; i < 200; i++) {
      const secretKey = randomBytes(randomInt(1, 64)).toString('base64');
      const fields: LoginSignatureFields = {
        secretId: `AKID${randomBytes(8).toString('hex')}`,
        currentTimeStamp: randomInt(0, 2 ** 31),
        expireTime: randomInt(0, 2 ** 31),
        random: randomInt(0, 2 ** 32),
        platform: randomBytes(randomInt(1, 12)).toString('latin1'),
        action: 'Login',
        userId: randomBytes(randomInt(1, 24)).toString('latin1'),
      };
      const signature = signLogin(fields, secretKey);
      expect(signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const { mac, original } = split(signature);
      expect(original).toBe(loginSignatureOriginal(fields));
      expect(mac.equals(createHmac('sha1', secretKey).update(original, 'utf8').digest())).toBe(
        true,
      );
      const decoded = Object.fromEntries(
        original.split('&').map((pair) => pair.split('=').map(decodeURIComponent)),
      );
      expect(decoded.userId).toBe(fields.userId);
      expect(decoded.platform).toBe(fields.platform);
      expect(Number(decoded.random)).toBe(fields.random);
    }
  });

  it('appends extra fields after the fixed ones, encoded', () => {
    const [vector] = vectors.cmeLogin;
    if (!vector) throw new Error('no vector');
    const original = loginSignatureOriginal({ ...vector.fields, extra: { note: 'a b&c' } });
    expect(original).toBe(`${vector.original}&note=a%20b%26c`);
  });
});

describe('buildLoginFields', () => {
  it('stamps the time in seconds, adds the validity and draws a 32-bit random', () => {
    const randoms = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const fields = buildLoginFields({
        secretId: 'AKID',
        platform: 'p',
        userId: 'user_001',
        validitySec: 300,
        nowMs: 1_700_000_000_999,
      });
      expect(fields.currentTimeStamp).toBe(1_700_000_000);
      expect(fields.expireTime).toBe(1_700_000_300);
      expect(fields.action).toBe('Login');
      expect(Number.isInteger(fields.random)).toBe(true);
      expect(fields.random).toBeGreaterThanOrEqual(0);
      expect(fields.random).toBeLessThan(2 ** 32);
      randoms.add(fields.random);
    }
    expect(randoms.size).toBeGreaterThan(45);
  });

  it.each(['u@x.com a/b', 'a+b', 'ü', '', 'a:b'])('rejects userId %j', (userId) => {
    expect(() =>
      buildLoginFields({ secretId: 'AKID', platform: 'p', userId, validitySec: 300 }),
    ).toThrow(/userId/);
  });

  it.each(['user_001', 'a.b@c-d', 'X'])('accepts userId %j', (userId) => {
    expect(
      buildLoginFields({ secretId: 'AKID', platform: 'p', userId, validitySec: 300 }).userId,
    ).toBe(userId);
  });
});
