import { ConfigError } from '../errors/config-error.ts';
import { Secret } from '../secret.ts';
import { DEFAULT_TENANT, isTenantName } from '../tenant.ts';

/** A bearer token and the tenant it acts for (`name:token`; a bare token is `default`). */
export interface TenantKey {
  tenant: string;
  token: Secret;
}

export type Env = Readonly<Record<string, string | undefined>>;

const REDIS_SCHEMES = ['redis://', 'rediss://', 'redis-cluster://'] as const;

/**
 * Reads typed values out of an environment. Every reader names the variable in its error,
 * and blank values count as unset (so `FOO=` in a .env file does not mean "empty string").
 */
export class EnvReader {
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  raw(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  required(name: string, why: string): string {
    const value = this.raw(name);
    if (value === undefined) throw new ConfigError(name, `is required ${why}`);
    return value;
  }

  secret(name: string): Secret | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : new Secret(value);
  }

  int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
    const value = Number(raw);
    const { min, max } = bounds;
    if (min !== undefined && value < min)
      throw new ConfigError(name, `must be at least ${min}, got ${value}`);
    if (max !== undefined && value > max)
      throw new ConfigError(name, `must be at most ${max}, got ${value}`);
    return value;
  }

  optionalInt(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    return this.has(name) ? this.int(name, 0, bounds) : undefined;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    throw new ConfigError(name, `must be true or false, got "${raw}"`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(name, `must be one of ${allowed.join(' | ')}, got "${raw}"`);
    }
    return raw as T;
  }

  /** A comma-separated list of free-form members (trimmed, blanks dropped), each listed once. */
  list(name: string, fallback: readonly string[] = []): string[] {
    const items = this.#items(name);
    if (items === undefined) return [...fallback];
    const seen = new Set<string>();
    for (const item of items) {
      if (seen.has(item)) throw new ConfigError(name, `lists "${item}" twice`);
      seen.add(item);
    }
    return items;
  }

  /**
   * A comma-separated list whose members must be among `allowed`, each once (an unknown member
   * is refused, never kept). Set but blank (`,`) is an empty list, refused with `nonEmpty`.
   */
  members<T extends string>(
    name: string,
    allowed: readonly T[],
    options: { fallback?: readonly T[]; nonEmpty?: boolean } = {},
  ): T[] {
    const items = this.list(name, options.fallback ?? []);
    for (const item of items) {
      if (!(allowed as readonly string[]).includes(item)) {
        throw new ConfigError(name, `must list only ${allowed.join(', ')}, got "${item}"`);
      }
    }
    if (options.nonEmpty && items.length === 0) {
      throw new ConfigError(name, `must list at least one of ${allowed.join(', ')}`);
    }
    return items as T[];
  }

  /**
   * A comma-separated list of bearer tokens, each `name:token` (a tenant name, `[a-z0-9_-]`,
   * 1 to 40 characters) or a bare token (tenant `default`). Errors name a key by its position,
   * never by its value. Tokens must differ (`seen`: tokens of lists read before, which must
   * differ too); one tenant may have several (rotating its key).
   */
  tenantKeys(name: string, seen: Map<string, string> = new Map()): TenantKey[] {
    const items = this.#items(name) ?? [];
    return items.map((item, i) => {
      const where = `key ${i + 1}`;
      if (/\s/.test(item)) {
        throw new ConfigError(
          name,
          `${where} contains whitespace, which a Bearer header cannot carry`,
        );
      }
      const colon = item.indexOf(':');
      const tenant = colon < 0 ? DEFAULT_TENANT : item.slice(0, colon);
      const token = colon < 0 ? item : item.slice(colon + 1);
      if (!isTenantName(tenant)) {
        throw new ConfigError(
          name,
          `${where}: the tenant name before ":" must be 1 to 40 of a-z, 0-9, "_" and "-" (name:token, or a bare token for tenant default)`,
        );
      }
      if (token === '')
        throw new ConfigError(name, `${where} (tenant ${tenant}) has no token after ":"`);
      const earlier = seen.get(token);
      if (earlier !== undefined) {
        throw new ConfigError(name, `${where} repeats ${earlier}: every token must differ`);
      }
      seen.set(token, `${name} key ${i + 1}`);
      return { tenant, token: new Secret(token) };
    });
  }

  /**
   * A comma-separated list of `name:number` (a tenant name, or `*` with `star`), each name
   * once; numbers within `bounds`, whole unless `decimal`.
   */
  namedNumbers(
    name: string,
    options: { star?: boolean; decimal?: boolean; min: number; max?: number },
  ): Map<string, number> {
    const entries = new Map<string, number>();
    for (const item of this.#items(name) ?? []) {
      const colon = item.indexOf(':');
      const key = item.slice(0, colon).trim();
      const raw = item.slice(colon + 1).trim();
      const form = options.star ? 'name:n (or *:n for every other tenant)' : 'name:n';
      if (colon < 0) throw new ConfigError(name, `must list ${form}, got "${item}"`);
      if (!(isTenantName(key) || (options.star && key === '*'))) {
        throw new ConfigError(
          name,
          `"${key}" is not a tenant name (1 to 40 of a-z, 0-9, "_" and "-")${options.star ? ' or *' : ''}`,
        );
      }
      const number = options.decimal ? /^\d+(\.\d+)?$/ : /^\d+$/;
      const value = Number(raw);
      const { min, max } = options;
      if (!number.test(raw) || value < min || (max !== undefined && value > max)) {
        const kind = options.decimal ? 'a number' : 'a whole number';
        const range = max === undefined ? `at least ${min}` : `${min} to ${max}`;
        throw new ConfigError(name, `${key}: must be ${kind}, ${range}, got "${raw}"`);
      }
      if (entries.has(key)) throw new ConfigError(name, `lists "${key}" twice`);
      entries.set(key, value);
    }
    return entries;
  }

  #items(name: string): string[] | undefined {
    return this.raw(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  url(name: string, fallback: string): string;
  url(name: string): string | undefined;
  url(name: string, fallback?: string): string | undefined {
    const raw = this.raw(name) ?? fallback;
    if (raw === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, 'must be an absolute URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(name, `must be an http(s) URL, got ${parsed.protocol}`);
    }
    return raw.replace(/\/+$/, '');
  }

  /**
   * A Redis URL: `redis://`, `rediss://` or `redis-cluster://`. The error never echoes the value
   * (it may carry a password).
   */
  redisUrl(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    const scheme = REDIS_SCHEMES.find((s) => raw.startsWith(s));
    if (scheme === undefined || raw.length === scheme.length) {
      throw new ConfigError(name, `must be a ${REDIS_SCHEMES.join(' | ')} URL`);
    }
    return raw;
  }

  path(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (!raw.startsWith('/'))
      throw new ConfigError(name, `must be a path starting with "/", got "${raw}"`);
    return raw;
  }
}
