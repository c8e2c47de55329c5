import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { FileFormatError } from './file-format-error.ts';

export interface CsvRecord {
  /** Line on which the record starts (1-based; a quoted field may span lines). */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records from a UTF-8 byte stream, as they arrive: comma-separated fields, double
 * quotes around fields that hold commas, quotes (doubled) or line breaks, `\n` or `\r\n`
 * line ends, an optional byte-order mark. Blank lines are skipped. Malformed input (a quote
 * inside an unquoted field, text after a closing quote, an unterminated quote, bytes that
 * are not UTF-8) throws `FileFormatError` naming the line.
 */
export async function* csvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = '';
  /** outside: unquoted field; quoted: inside quotes; closing: just saw a quote inside quotes; after: field closed by a quote. */
  let state = 'outside' as 'outside' | 'quoted' | 'closing' | 'after';
  let fieldStarted = false;
  let first = true;

  const endField = () => {
    fields.push(field);
    field = '';
    fieldStarted = false;
    state = 'outside';
  };
  const endRecord = (): CsvRecord | undefined => {
    endField();
    const record = fields;
    fields = [];
    const blank = record.length === 1 && record[0] === '';
    return blank ? undefined : { line: recordLine, fields: record };
  };

  const decode = (chunk: Buffer | undefined): string => {
    try {
      return decoder.decode(chunk, { stream: chunk !== undefined });
    } catch {
      throw new FileFormatError(line, 'the file is not valid UTF-8');
    }
  };

  const consume = function* (text: string): Generator<CsvRecord> {
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (first) {
        first = false;
        if (c === '\uFEFF') continue;
      }
      if (state === 'closing') {
        if (c === '"') {
          field += '"';
          state = 'quoted';
          continue;
        }
        state = 'after';
      }
      if (state === 'quoted') {
        if (c === '"') state = 'closing';
        else {
          field += c;
          if (c === '\n') line++;
        }
        continue;
      }
      if (c === '\r') continue; // \r\n line ends; a stray \r outside quotes means nothing
      if (c === ',') {
        endField();
      } else if (c === '\n') {
        const record = endRecord();
        line++;
        recordLine = line;
        if (record) yield record;
      } else if (state === 'after') {
        throw new FileFormatError(line, `unexpected ${JSON.stringify(c)} after a closing quote`);
      } else if (c === '"') {
        if (fieldStarted) {
          throw new FileFormatError(
            line,
            'a quote inside an unquoted field (quote the whole field and double the quote)',
          );
        }
        state = 'quoted';
        fieldStarted = true;
      } else {
        field += c;
        fieldStarted = true;
      }
    }
  };

  for await (const chunk of input) yield* consume(decode(chunk as Buffer));
  yield* consume(decode(undefined));
  if (state === 'quoted') throw new FileFormatError(recordLine, 'unterminated quoted field');
  if (state === 'closing') state = 'after';
  if (fieldStarted || fields.length > 0 || state === 'after') {
    const record = endRecord();
    if (record) yield record;
  }
}
