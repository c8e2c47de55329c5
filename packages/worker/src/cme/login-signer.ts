import { createHmac, randomInt } from 'node:crypto';
import { CME_USER_ID_PATTERN, ValidationError } from '@atelier/shared';

/** The fields of a CME client access signature, in the order they are signed. */
export interface LoginSignatureFields {
  secretId: string;
  /** Unix seconds. */
  currentTimeStamp: number;
  /** Unix seconds: `currentTimeStamp` + validity. */
  expireTime: number;
  /** Unsigned 32-bit integer from a CSPRNG. */
  random: number;
  platform: string;
  /** `Login` here; `Upload` and `OpenProject` exist for other uses. */
  action: string;
  userId: string;
  /** Optional extra fields, appended after the fixed ones in insertion order. */
  extra?: Record<string, string>;
}

/** Upper bound (exclusive) of `random`: 2^32. */
const RANDOM_LIMIT = 2 ** 32;

/** The signed plaintext: fixed field order, every value `encodeURIComponent`-ed. */
export function loginSignatureOriginal(fields: LoginSignatureFields): string {
  const pairs: Array<[string, string | number]> = [
    ['secretId', fields.secretId],
    ['currentTimeStamp', fields.currentTimeStamp],
    ['expireTime', fields.expireTime],
    ['random', fields.random],
    ['platform', fields.platform],
    ['action', fields.action],
    ['userId', fields.userId],
    ...Object.entries(fields.extra ?? {}),
  ];
  return pairs.map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`).join('&');
}

/**
 * Signs a CME client access signature: Base64(HMAC-SHA1(secretKey, original) ‖ original).
 * The plaintext travels inside the result, readable by anyone; the result itself is a
 * credential and must never be logged.
 */
export function signLogin(fields: LoginSignatureFields, secretKey: string): string {
  const original = loginSignatureOriginal(fields);
  const mac = createHmac('sha1', secretKey).update(original, 'utf8').digest();
  return Buffer.concat([mac, Buffer.from(original, 'utf8')]).toString('base64');
}

export interface LoginFieldsInput {
  secretId: string;
  platform: string;
  userId: string;
  /** `expireTime - currentTimeStamp`, in seconds. */
  validitySec: number;
  action?: string;
  /** Milliseconds since the epoch (defaults to `Date.now()`). */
  nowMs?: number;
}

/**
 * Fresh signature fields: current time, `expireTime = now + validity`, a CSPRNG `random` over
 * 0..2^32-1. Rejects userIds outside `[A-Za-z0-9_.@-]` rather than guessing how the server
 * decodes anything else.
 */
export function buildLoginFields(input: LoginFieldsInput): LoginSignatureFields {
  if (!CME_USER_ID_PATTERN.test(input.userId)) {
    throw new ValidationError([
      {
        field: 'userId',
        rule: 'pattern',
        message: 'userId must be 1..128 characters of A-Z a-z 0-9 _ . @ -',
      },
    ]);
  }
  const currentTimeStamp = Math.floor((input.nowMs ?? Date.now()) / 1000);
  return {
    secretId: input.secretId,
    currentTimeStamp,
    expireTime: currentTimeStamp + input.validitySec,
    random: randomInt(0, RANDOM_LIMIT),
    platform: input.platform,
    action: input.action ?? 'Login',
    userId: input.userId,
  };
}
