import { DEFAULT_DRAWING_LIMITS } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { batchIdFor, batchItemJobId } from '../src/lib/batch-id.ts';
import { BatchItemParser } from '../src/lib/batch-item-parser.ts';

const ITEM = { text: 'cat', style: '油画', resolution: '1024*1024' };

describe('BatchItemParser', () => {
  it('applies defaults and keeps item callbackUrl and priority', () => {
    const parser = new BatchItemParser(DEFAULT_DRAWING_LIMITS);
    expect(parser.parse({ ...ITEM, priority: 3, callbackUrl: 'https://x.example/cb' }, 0)).toEqual({
      ...ITEM,
      num: 1,
      priority: 3,
      callbackUrl: 'https://x.example/cb',
    });
  });

  it('names items.<index>.<field>, prefixes messages with the label, and refuses item keys', () => {
    const parser = new BatchItemParser(DEFAULT_DRAWING_LIMITS, (i) => `line ${i + 10}`);
    expect(parser.parse({ ...ITEM, num: 0, idempotencyKey: 'k' }, 2)).toBeUndefined();
    expect(parser.parse('not an object', 3)).toBeUndefined();
    expect(parser.issues).toEqual([
      {
        field: 'items.2.idempotencyKey',
        rule: 'notAllowed',
        message: expect.stringMatching(/^line 12: idempotencyKey is not allowed/),
      },
      { field: 'items.2.num', rule: 'min', message: 'line 12: num must be at least 1' },
      { field: 'items.3', rule: 'type', message: 'line 13: the item must be an object' },
    ]);
    expect(parser.invalidCount).toBe(2);
  });

  it('stops collecting issues at the limit but keeps counting invalid items', () => {
    const parser = new BatchItemParser(DEFAULT_DRAWING_LIMITS, undefined, 2);
    for (let i = 0; i < 5; i++) parser.parse({}, i);
    expect(parser.issues).toHaveLength(2);
    expect(parser.invalidCount).toBe(5);
  });
});

describe('batch ids', () => {
  it('derives readable or hashed batch ids from keys, and item ids that no single key can produce', () => {
    expect(batchIdFor('nightly-1')).toBe('b_nightly-1');
    expect(batchIdFor('with space')).toMatch(/^b~[A-Za-z0-9_-]{43}$/);
    expect(batchIdFor()).toMatch(/^b_[0-9a-f-]{36}$/);
    expect(batchItemJobId('b_x', 7)).toBe('dr_b_x~7');
  });
});
