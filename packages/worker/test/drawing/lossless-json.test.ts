import { describe, expect, it } from 'vitest';
import { parseLosslessJson } from '../../src/drawing/lossless-json.ts';

describe('parseLosslessJson', () => {
  it('keeps every digit of a 22-digit bare-number taskId', () => {
    const text = '{"code":200,"data":{"taskId":1234567890123456789012}}';
    expect(JSON.parse(text).data.taskId).not.toBe('1234567890123456789012');
    expect(parseLosslessJson(text)).toEqual({
      code: 200,
      data: { taskId: '1234567890123456789012' },
    });
  });

  it('keeps a number just above 2^53 exact, negative too', () => {
    expect(parseLosslessJson('[9007199254740993,-9007199254740993]')).toEqual([
      '9007199254740993',
      '-9007199254740993',
    ]);
  });

  it('leaves safe integers, fractions, strings and nested values alone', () => {
    expect(parseLosslessJson('{"a":9007199254740991,"b":1.5,"c":"7","d":[1e3,null,true]}')).toEqual(
      { a: 9007199254740991, b: 1.5, c: '7', d: [1000, null, true] },
    );
  });

  it('throws SyntaxError on malformed text', () => {
    expect(() => parseLosslessJson('{"code":200,')).toThrow(SyntaxError);
  });
});
