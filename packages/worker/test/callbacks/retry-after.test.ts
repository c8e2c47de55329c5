import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/callbacks/retry-after.ts';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    [' 5 ', 5_000],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
  ])('%j → %d ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each([undefined, '', '0', '-5', '1.5', 'soon', 'Tue, 31 Dec 2024 23:59:00 GMT'])(
    '%j → no hint',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});
