import type { Readable } from 'node:stream';
import { ValidationError } from '@atelier/shared';
import { JsonTextReader } from './json-text-reader.ts';

/** No batch item comes near this (the NDJSON line limit); a longer one is refused unbuffered. */
const MAX_ITEM_CHARS = 64 * 1024;
/** Nor does any batch option (a callback URL is at most 2048 characters). */
const MAX_OPTION_CHARS = 64 * 1024;

/**
 * The items of a JSON batch body `{"items": [...], "callbackUrl"?, …}`, parsed as the bytes
 * arrive: each item is yielded as soon as it is read and nothing keeps it, so a 100,000-item
 * body never sits in memory whole (neither as text nor parsed). The other top-level fields —
 * before or after `items` — are collected for `options()`, read once the items are. Each item
 * and field is parsed by `JSON.parse` on its own text (nesting is only counted while reading);
 * errors name the item (`items.<index>`) or field and the character position.
 */
export class JsonBatchBody implements AsyncIterable<unknown> {
  readonly #body: Readable;
  readonly #maxBytes: number;
  readonly #options = new Map<string, unknown>();
  #sawItems = false;
  #read = false;

  constructor(body: Readable, maxBytes: number) {
    this.#body = body;
    this.#maxBytes = maxBytes;
  }

  /**
   * The top-level fields other than `items`, once every item was read; refuses a body without
   * `items` (the other fields are checked by the caller's schema).
   */
  options(): Record<string, unknown> {
    if (!this.#read) throw new Error('JsonBatchBody.options() is known once the items were read');
    if (!this.#sawItems) {
      throw new ValidationError([
        { field: 'items', rule: 'required', message: 'items is required' },
      ]);
    }
    // Own properties only, `__proto__` included (a Map, so no key reaches a prototype).
    return Object.fromEntries(this.#options);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const reader = new JsonTextReader(this.#body, this.#maxBytes);
    const first = await reader.peek();
    if (first === undefined) throw reader.malformed('the request body is empty');
    if (first !== '{') {
      // An array or string is not read to its end to be told apart from broken JSON.
      if (first !== '[' && first !== '"') {
        reader.parse(await reader.value(MAX_OPTION_CHARS, 'the request body'), 'the request body');
      }
      throw new ValidationError([
        { field: '(body)', rule: 'type', message: '(body) must be an object' },
      ]);
    }
    await reader.expect('{', '"{"');
    if ((await reader.peek()) === '}') await reader.expect('}', '"}"');
    else {
      for (;;) {
        const keyText = await reader.value(MAX_OPTION_CHARS, 'a field name');
        if (!keyText.startsWith('"')) throw reader.malformed('expected a field name in quotes');
        const key = reader.parse(keyText, 'a field name') as string;
        await reader.expect(':', '":"');
        if (key === 'items') yield* this.#items(reader);
        else this.#options.set(key, reader.parse(await reader.value(MAX_OPTION_CHARS, key), key));
        if ((await reader.expect(',}', '"," or "}"')) === '}') break;
      }
    }
    if ((await reader.peek()) !== undefined) {
      throw reader.malformed('unexpected text after the JSON object');
    }
    this.#read = true;
  }

  async *#items(reader: JsonTextReader): AsyncGenerator<unknown> {
    if (this.#sawItems) throw reader.malformed('items appears twice in the body');
    this.#sawItems = true;
    if ((await reader.peek()) !== '[') {
      const value = reader.parse(await reader.value(MAX_OPTION_CHARS, 'items'), 'items');
      const type = value === null ? 'null' : typeof value;
      throw new ValidationError([
        { field: 'items', rule: 'type', message: `items must be an array, not ${type}` },
      ]);
    }
    await reader.expect('[', '"["');
    if ((await reader.peek()) === ']') {
      await reader.expect(']', '"]"');
      return;
    }
    for (let index = 0; ; index++) {
      const what = `items.${index}`;
      yield reader.parse(await reader.value(MAX_ITEM_CHARS, what), what);
      if ((await reader.expect(',]', '"," or "]"')) === ']') return;
    }
  }
}
