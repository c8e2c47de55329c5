import { describe, expect, it } from 'vitest';
import { jobIdFor, kindOfJobId } from '../src/index.ts';

describe('jobIdFor', () => {
  it('keeps safe idempotency keys readable and stable', () => {
    expect(jobIdFor('drawing', 'order-42.v1')).toBe('dr_order-42.v1');
    expect(jobIdFor('drawing', 'order-42.v1')).toBe(jobIdFor('drawing', 'order-42.v1'));
  });

  it('hashes keys BullMQ cannot take (colons, spaces, non-ASCII) and never yields a bare integer', () => {
    for (const key of ['a:b', 'with space', '一只猫', '12345']) {
      const id = jobIdFor('cme', key);
      expect(id).not.toContain(':');
      expect(id).not.toMatch(/^\d+$/);
      expect(jobIdFor('cme', key)).toBe(id);
    }
    expect(jobIdFor('cme', 'a:b')).toMatch(/^cm~/);
  });

  it('keeps ids unique across kinds and tells the kind back', () => {
    expect(jobIdFor('drawing', 'k')).not.toBe(jobIdFor('cme', 'k'));
    expect(kindOfJobId(jobIdFor('drawing'))).toBe('drawing');
    expect(kindOfJobId(jobIdFor('cme', 'a:b'))).toBe('cme');
    expect(kindOfJobId('12')).toBeUndefined();
  });
});
