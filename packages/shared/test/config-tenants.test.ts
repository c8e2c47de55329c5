import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configuredTenants,
  DEFAULT_TENANT,
  loadConfig,
  quotaOf,
  tenantOfId,
  withTenant,
} from '../src/index.ts';

function refusal(env: Record<string, string>): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('named keys', () => {
  it('reads name:token entries, a bare token as tenant default, admin keys alike', () => {
    const config = loadConfig({
      ATELIER_API_KEYS: 'acme:tok-acme-1, bare-token-0001, acme:tok-acme-2, beta-2:tok-beta',
      ATELIER_ADMIN_KEYS: 'ops:tok-ops, tok-admin-bare',
    });
    expect(config.apiKeys.map((k) => [k.tenant, k.token.reveal()])).toEqual([
      ['acme', 'tok-acme-1'],
      [DEFAULT_TENANT, 'bare-token-0001'],
      ['acme', 'tok-acme-2'],
      ['beta-2', 'tok-beta'],
    ]);
    expect(config.adminKeys.map((k) => [k.tenant, k.token.reveal()])).toEqual([
      ['ops', 'tok-ops'],
      [DEFAULT_TENANT, 'tok-admin-bare'],
    ]);
    expect(configuredTenants(config)).toEqual(['acme', 'default', 'beta-2', 'ops']);
    // Tokens never print.
    expect(JSON.stringify(config.apiKeys)).not.toContain('tok-acme-1');
  });

  it.each([
    ['Acme:tok-1', 'key 1'],
    ['ok:tok-1,a.b:tok-2', 'key 2'],
    [`${'x'.repeat(41)}:tok-1`, 'key 1'],
    [':tok-1', 'key 1'],
  ])(
    'ATELIER_API_KEYS=%s has a bad tenant name: refused naming the key, not its token',
    (value, where) => {
      const error = refusal({ ATELIER_API_KEYS: value });
      expect(error.variable).toBe('ATELIER_API_KEYS');
      expect(error.message).toContain(where);
      expect(error.message).toContain('a-z, 0-9');
      expect(error.message).not.toContain('tok-');
    },
  );

  it('a name without a token is refused', () => {
    const error = refusal({ ATELIER_ADMIN_KEYS: 'ops:' });
    expect(error.variable).toBe('ATELIER_ADMIN_KEYS');
    expect(error.message).toContain('key 1 (tenant ops) has no token');
  });

  it('a token used twice, in one list or across both, is refused without echoing it', () => {
    const same = refusal({ ATELIER_API_KEYS: 'a:secret-token-1,b:secret-token-1' });
    expect(same.variable).toBe('ATELIER_API_KEYS');
    expect(same.message).toContain('key 2 repeats ATELIER_API_KEYS key 1');
    expect(same.message).not.toContain('secret-token-1');
    const across = refusal({
      ATELIER_API_KEYS: 'a:secret-token-1',
      ATELIER_ADMIN_KEYS: 'ops:secret-token-1',
    });
    expect(across.variable).toBe('ATELIER_ADMIN_KEYS');
    expect(across.message).toContain('repeats ATELIER_API_KEYS key 1');
  });

  it('the API needs a key of either kind', () => {
    expect(() => loadConfig({}, 'api')).toThrow(
      /ATELIER_API_KEYS: is required \(or ATELIER_ADMIN_KEYS\)/,
    );
    expect(() => loadConfig({ ATELIER_ADMIN_KEYS: 'ops:t-1' }, 'api')).not.toThrow();
  });
});

describe('quotas, weights and fair share', () => {
  it('reads per-tenant quotas with a * fallback, and weights', () => {
    const { tenants } = loadConfig({
      ATELIER_QUOTAS: 'acme:100, *:10, beta:0',
      ATELIER_TENANT_WEIGHTS: 'acme:2, beta:0.5',
    });
    expect(quotaOf(tenants.quotas, 'acme')).toBe(100);
    expect(quotaOf(tenants.quotas, 'beta')).toBe(0);
    expect(quotaOf(tenants.quotas, 'other')).toBe(10);
    expect(tenants.weights).toEqual({ acme: 2, beta: 0.5 });
    expect(tenants.fairShare).toBe(true);
  });

  it('no ATELIER_QUOTAS: no quota for anyone', () => {
    const { tenants } = loadConfig({});
    expect(quotaOf(tenants.quotas, 'acme')).toBeUndefined();
    expect(loadConfig({ ATELIER_FAIR_SHARE: 'false' }).tenants.fairShare).toBe(false);
  });

  it.each([
    ['ATELIER_QUOTAS', 'acme', 'name:n'],
    ['ATELIER_QUOTAS', 'acme:-1', 'a whole number'],
    ['ATELIER_QUOTAS', 'acme:1.5', 'a whole number'],
    ['ATELIER_QUOTAS', 'Acme:10', '"Acme" is not a tenant name'],
    ['ATELIER_QUOTAS', 'acme:10,acme:20', 'lists "acme" twice'],
    ['ATELIER_QUOTAS', '*:1,*:2', 'lists "*" twice'],
    ['ATELIER_TENANT_WEIGHTS', '*:2', '"*" is not a tenant name'],
    ['ATELIER_TENANT_WEIGHTS', 'acme:0', '0.01 to 1000'],
    ['ATELIER_TENANT_WEIGHTS', 'acme:heavy', 'a number'],
    ['ATELIER_TENANT_WEIGHTS', 'acme:1,acme:2', 'twice'],
  ])('%s=%s is refused (%s)', (variable, value, rule) => {
    const error = refusal({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(rule);
  });
});

describe('tenant ids', () => {
  it('default keeps the id; another tenant appends @name, read back from jobs, batches and items', () => {
    expect(withTenant('dr_key-1', DEFAULT_TENANT)).toBe('dr_key-1');
    expect(withTenant('dr_key-1', 'acme')).toBe('dr_key-1@acme');
    expect(tenantOfId('dr_key-1')).toBe(DEFAULT_TENANT);
    expect(tenantOfId('dr_key-1@acme')).toBe('acme');
    expect(tenantOfId('b_k@acme_x')).toBe('acme_x');
    expect(tenantOfId('dr_b_k@acme_x~17')).toBe('acme_x');
    expect(tenantOfId('dr_b~abc-_Q@beta~0')).toBe('beta');
    expect(tenantOfId('dr_b_k~17')).toBe(DEFAULT_TENANT);
  });

  it('an id with an @ no tenant id has belongs to nobody', () => {
    for (const id of ['dr_x@', 'dr_x@Acme', 'dr_x@a@b', 'dr_x@a.b', 'dr_x@a~b', '@']) {
      expect(tenantOfId(id)).toBeUndefined();
    }
  });
});
