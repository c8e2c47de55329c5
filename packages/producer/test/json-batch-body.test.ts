import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonBatchBody } from '../src/lib/json-batch-body.ts';

/** The body split into chunks of `size` bytes (1: every byte on its own, UTF-8 split too). */
function body(text: string | Buffer, size = 1 << 16): Readable {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function read(parsed: JsonBatchBody): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of parsed) out.push(item);
  return out;
}

const ITEMS = [
  { text: '猫 "in" the [rain] {x}, \\ \u2028', style: '油画', n: [1, { deep: [[]] }] },
  { text: 'b', num: 2, resolution: '1024*1024' },
  'not an object',
  -1.5e3,
  null,
  true,
];

describe('JsonBatchBody', () => {
  it('yields each item in order and collects the other fields, before or after items, whatever the chunking', async () => {
    const text = ` \r\n{ "callbackUrl" : "https://x.example/cb?a=[1]" ,\n"items":[ ${ITEMS.map((i) => JSON.stringify(i)).join(' ,\n ')} ] , "priority":7,"extra":{"a":[1,2]} }\n `;
    for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
      const parsed = new JsonBatchBody(body(text, size), 1 << 20);
      expect(await read(parsed), `chunks of ${size}`).toEqual(ITEMS);
      expect(parsed.options()).toEqual({
        callbackUrl: 'https://x.example/cb?a=[1]',
        priority: 7,
        extra: { a: [1, 2] },
      });
    }
  });

  it('reads an empty object, empty items, and fields that only look special', async () => {
    const empty = new JsonBatchBody(body('{}'), 100);
    expect(await read(empty)).toEqual([]);
    expect(() => empty.options()).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const none = new JsonBatchBody(body('{"items":[],"__proto__":{"x":1}}'), 100);
    expect(await read(none)).toEqual([]);
    const options = none.options();
    expect(Object.keys(options)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(options)).toBe(Object.prototype);
  });

  it('knows its options only once the items were read', () => {
    expect(() => new JsonBatchBody(body('{"items":[]}'), 100).options()).toThrow(/once the items/);
  });

  it.each([
    ['', 'MALFORMED_JSON', /empty/],
    ['   ', 'MALFORMED_JSON', /empty/],
    ['nope', 'MALFORMED_JSON', /not valid JSON/],
    ['12', 'VALIDATION_FAILED', /must be an object/],
    ['[{"text":"a"}]', 'VALIDATION_FAILED', /\(body\) must be an object/],
    ['"items"', 'VALIDATION_FAILED', /must be an object/],
    ['{"items":[1,2]} trailing', 'MALFORMED_JSON', /after the JSON object/],
    ['{"items":[1,2]}{}', 'MALFORMED_JSON', /after the JSON object/],
    ['{"items":[1 2]}', 'MALFORMED_JSON', /expected "," or "]"/],
    ['{"items":[1,]}', 'MALFORMED_JSON', /items\.1 is not valid JSON/],
    ['{"items":[{"a":1},{"b":}]}', 'MALFORMED_JSON', /items\.1 is not valid JSON/],
    ['{"items":[{"a":"unterminated}]}', 'MALFORMED_JSON', /ended inside the value/],
    ['{"items":[{"a":1}', 'MALFORMED_JSON', /expected "," or "]"/],
    ['{"items":[1],"items":[2]}', 'MALFORMED_JSON', /items appears twice/],
    ['{"items":"many"}', 'VALIDATION_FAILED', /items must be an array, not string/],
    ['{"items":null}', 'VALIDATION_FAILED', /items must be an array, not null/],
    ['{items:[]}', 'MALFORMED_JSON', /field name in quotes/],
    ['{"items" []}', 'MALFORMED_JSON', /expected ":"/],
    ['{"priority":01,"items":[]}', 'MALFORMED_JSON', /priority is not valid JSON/],
    ['{"items":[]', 'MALFORMED_JSON', /expected "," or "}"/],
  ])('refuses %j with %s', async (text, code, message) => {
    await expect(read(new JsonBatchBody(body(text, 3), 1000))).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it('names the item and the position of a malformed item', async () => {
    const text = `{"items":[{"a":1},{"b":2},{"c":tru}]}`;
    await expect(read(new JsonBatchBody(body(text), 1000))).rejects.toMatchObject({
      code: 'MALFORMED_JSON',
      details: { at: 'items.2', position: text.indexOf(']}') },
    });
  });

  it('refuses an item longer than 65,536 characters without holding more of it', async () => {
    const long = `{"items":[{"text":"${'x'.repeat(70_000)}"}]}`;
    await expect(read(new JsonBatchBody(body(long, 1000), 1 << 20))).rejects.toMatchObject({
      code: 'MALFORMED_JSON',
      details: { at: 'items.0' },
    });
  });

  it('stops past the byte limit, and at bytes that are not UTF-8', async () => {
    const big = `{"items":[${Array.from({ length: 100 }, () => '{"a":1}').join(',')}]}`;
    await expect(read(new JsonBatchBody(body(big, 64), 500))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    const bad = Buffer.concat([
      Buffer.from('{"items":[{"t":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    await expect(read(new JsonBatchBody(body(bad), 500))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('reads items nested deeper than any stack (nesting is counted, not recursed into)', async () => {
    const deep = `{"items":[${'['.repeat(30_000)}${']'.repeat(30_000)},{"a":1}]}`;
    const items = await read(new JsonBatchBody(body(deep, 4096), 1 << 20));
    expect(items).toHaveLength(2);
    expect(items[1]).toEqual({ a: 1 });
  });
});
