import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NdjsonItems } from '../src/lib/ndjson-items.ts';

async function read(items: NdjsonItems) {
  const out = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('NdjsonItems', () => {
  it('parses one value per non-blank line across chunk boundaries and remembers lines', async () => {
    const items = new NdjsonItems(
      Readable.from([Buffer.from('{"a":1}\n\n{"b"'), Buffer.from(':"猫"}\r\n[3]')]),
      1000,
    );
    expect(await read(items)).toEqual([{ a: 1 }, { b: '猫' }, [3]]);
    expect([0, 1, 2].map((i) => items.lineOf(i))).toEqual([1, 3, 4]);
  });

  it('stops at the first malformed line, naming it', async () => {
    const items = new NdjsonItems(Readable.from([Buffer.from('{"a":1}\n{oops\n{"c":3}\n')]), 1000);
    await expect(read(items)).rejects.toMatchObject({
      code: 'MALFORMED_JSON',
      details: { line: 2 },
    });
  });

  it('stops past the byte limit', async () => {
    const items = new NdjsonItems(Readable.from([Buffer.from('{"a":1}\n'.repeat(20))]), 50);
    await expect(read(items)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses a line that never ends', async () => {
    const chunk = Buffer.from('x'.repeat(16 * 1024));
    const items = new NdjsonItems(
      Readable.from(Array.from({ length: 8 }, () => chunk)),
      10_000_000,
    );
    await expect(read(items)).rejects.toMatchObject({
      code: 'MALFORMED_JSON',
      details: { line: 1 },
    });
  });
});
