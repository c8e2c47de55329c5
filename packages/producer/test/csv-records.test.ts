import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvRecords } from '../src/cli/csv-records.ts';

async function records(...chunks: Array<string | Buffer>) {
  const out = [];
  for await (const record of csvRecords(Readable.from(chunks.map((c) => Buffer.from(c)))))
    out.push(record);
  return out;
}

describe('csvRecords', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and keeps line numbers', async () => {
    expect(await records('a,b\r\n"x, y","say ""hi"""\n"multi\nline",z\n\nlast,one')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', 'z'] },
      { line: 6, fields: ['last', 'one'] },
    ]);
  });

  it('handles records, quotes and multi-byte characters split across chunks', async () => {
    const text = 'text,n\n"猫 ""q""",1\n';
    const bytes = Buffer.from(text);
    const chunks = Array.from(bytes, (byte) => Buffer.from([byte]));
    expect(await records(...chunks)).toEqual([
      { line: 1, fields: ['text', 'n'] },
      { line: 2, fields: ['猫 "q"', '1'] },
    ]);
  });

  it('drops a byte-order mark and keeps empty fields', async () => {
    expect(await records('\uFEFFa,,c\n')).toEqual([{ line: 1, fields: ['a', '', 'c'] }]);
  });

  it.each([
    ['a\n"open,b\n', 'line 2: unterminated quoted field'],
    ['a\nb"c\n', 'line 2: a quote inside an unquoted field'],
    ['a\n"b"c\n', 'line 2: unexpected "c" after a closing quote'],
  ])('names the line of malformed input %j', async (text, message) => {
    await expect(records(text)).rejects.toThrow(message);
  });

  it('refuses bytes that are not UTF-8', async () => {
    await expect(records(Buffer.from([0x61, 0x0a, 0xff, 0xfe]))).rejects.toThrow('not valid UTF-8');
  });
});
