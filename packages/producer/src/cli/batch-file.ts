import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { extname } from 'node:path';
import { AtelierError } from '@atelier/shared';
import { NdjsonItems } from '../lib/ndjson-items.ts';
import { csvRecords } from './csv-records.ts';
import { FileFormatError } from './file-format-error.ts';
import { UsageError } from './usage-error.ts';

const CSV_COLUMNS = ['text', 'style', 'resolution', 'num'] as const;
const REQUIRED = ['text', 'style', 'resolution'];

/** Items of a batch file, streamed, with the line each came from. */
export interface BatchFile extends AsyncIterable<unknown> {
  lineOf(index: number): number | undefined;
}

/** Opens `.csv` (header `text,style,resolution,num`) or `.jsonl`/`.ndjson` (one request per line). */
export async function openBatchFile(path: string): Promise<BatchFile> {
  const extension = extname(path).toLowerCase();
  const kind =
    extension === '.csv' ? 'csv' : ['.jsonl', '.ndjson'].includes(extension) ? 'jsonl' : undefined;
  if (kind === undefined) throw new UsageError(`${path}: use a .csv, .jsonl or .ndjson file`);
  await access(path).catch(() => {
    throw new AtelierError(`cannot read ${path}`, { code: 'BAD_FILE' });
  });
  if (kind === 'csv') return csvItems(path);
  return new NdjsonItems(createReadStream(path), Number.POSITIVE_INFINITY);
}

function csvItems(path: string): BatchFile {
  const lines: number[] = [];
  return {
    lineOf: (index) => lines[index],
    async *[Symbol.asyncIterator]() {
      let header: string[] | undefined;
      for await (const record of csvRecords(createReadStream(path))) {
        if (!header) {
          header = record.fields.map((name) => name.trim());
          checkHeader(header, record.line);
          continue;
        }
        if (record.fields.length !== header.length) {
          throw new FileFormatError(
            record.line,
            `expected ${header.length} fields (${header.join(',')}), found ${record.fields.length}`,
          );
        }
        const item: Record<string, unknown> = {};
        header.forEach((name, i) => {
          const value = record.fields[i] ?? '';
          if (name !== 'num') item[name] = value;
          else if (value.trim() !== '')
            item.num = /^\s*\d+\s*$/.test(value) ? Number(value) : value;
        });
        lines.push(record.line);
        yield item;
      }
      if (!header)
        throw new FileFormatError(
          1,
          'the file is empty (expected a header text,style,resolution,num)',
        );
    },
  };
}

function checkHeader(header: string[], line: number): void {
  const unknown = header.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new FileFormatError(
      line,
      `unknown column ${unknown.map((n) => `"${n}"`).join(', ')} (the header is text,style,resolution,num)`,
    );
  }
  const missing = REQUIRED.filter((name) => !header.includes(name));
  if (missing.length > 0) {
    throw new FileFormatError(
      line,
      `missing column ${missing.join(', ')} (the header is text,style,resolution,num)`,
    );
  }
  if (new Set(header).size !== header.length)
    throw new FileFormatError(line, 'a column appears twice');
}
