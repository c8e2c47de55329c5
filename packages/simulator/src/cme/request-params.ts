import { CmeFailure } from './cme-failure.ts';
import type { CmeOwner } from './cme-types.ts';

function missing(name: string): CmeFailure {
  return new CmeFailure('MissingParameter', `缺少参数 ${name}`, `missing parameter: ${name}`);
}

function invalid(name: string, rule: string): CmeFailure {
  return new CmeFailure(
    'InvalidParameter',
    `参数 ${name} 不合法`,
    `invalid parameter ${name}: ${rule}`,
  );
}

/** A bad value of a well-typed parameter: `InvalidParameterValue.<name>`. */
export function invalidValue(name: string, rule: string): CmeFailure {
  return new CmeFailure(
    `InvalidParameterValue.${name}`,
    `参数 ${name} 取值不合法`,
    `invalid value of ${name}: ${rule}`,
  );
}

/**
 * Typed reads of a request body's fields. Absent required fields are `MissingParameter`,
 * wrongly typed ones `InvalidParameter`; `null` counts as absent.
 */
export class RequestParams {
  readonly #body: Record<string, unknown>;

  constructor(body: Record<string, unknown>) {
    this.#body = body;
  }

  /** A nested object (e.g. one of `SearchScopes`) read with the same rules. */
  static of(value: unknown, name: string): RequestParams {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(name, 'must be an object');
    }
    return new RequestParams(value as Record<string, unknown>);
  }

  has(name: string): boolean {
    return this.#body[name] !== undefined && this.#body[name] !== null;
  }

  raw(name: string): unknown {
    return this.has(name) ? this.#body[name] : undefined;
  }

  string(name: string): string {
    const value = this.#required(name);
    if (typeof value !== 'string') throw invalid(name, 'must be a string');
    if (value.length === 0) throw missing(name);
    return value;
  }

  /** Unlike `string`, an empty string is a value here. */
  optionalString(name: string): string | undefined {
    return this.#optional(name, (v) => typeof v === 'string', 'must be a string');
  }

  int(name: string): number {
    const value = this.#required(name);
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw invalid(name, 'must be an integer');
    }
    return value;
  }

  optionalInt(name: string): number | undefined {
    return this.has(name) ? this.int(name) : undefined;
  }

  optionalNumber(name: string): number | undefined {
    const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    return this.#optional(name, finite, 'must be a number');
  }

  optionalBool(name: string): boolean | undefined {
    return this.#optional(name, (v) => typeof v === 'boolean', 'must be a boolean');
  }

  stringArray(name: string): string[] {
    const value = this.#required(name);
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw invalid(name, 'must be an array of strings');
    }
    return value as string[];
  }

  optionalStringArray(name: string): string[] | undefined {
    return this.has(name) ? this.stringArray(name) : undefined;
  }

  array(name: string): unknown[] {
    const value = this.#required(name);
    if (!Array.isArray(value)) throw invalid(name, 'must be an array');
    return value;
  }

  optionalObject(name: string): RequestParams | undefined {
    return this.has(name) ? RequestParams.of(this.raw(name), name) : undefined;
  }

  owner(name = 'Owner'): CmeOwner {
    const owner = RequestParams.of(this.#required(name), name);
    const type = owner.string('Type');
    if (type !== 'PERSON' && type !== 'TEAM') throw invalidValue(name, 'Type is PERSON or TEAM');
    return { Type: type, Id: owner.string('Id') };
  }

  /** The field if present; `InvalidParameter` (naming `rule`) unless `is` accepts it. */
  #optional<T>(name: string, is: (value: unknown) => value is T, rule: string): T | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!is(value)) throw invalid(name, rule);
    return value;
  }

  #required(name: string): unknown {
    if (!this.has(name)) throw missing(name);
    return this.#body[name];
  }
}
