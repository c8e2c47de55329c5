import type { JobMeta } from './job-payloads.ts';

/** The tenant of work enqueued with a bare API key (`ATELIER_API_KEYS` entry without a name). */
export const DEFAULT_TENANT = 'default';

/** What a tenant may be called (`name:token` in `ATELIER_API_KEYS`). */
export const TENANT_NAME_PATTERN = /^[a-z0-9_-]{1,40}$/;

export function isTenantName(name: string): boolean {
  return TENANT_NAME_PATTERN.test(name);
}

/** Whose work a job is: the tenant its API key names, `default` for a bare key. */
export function jobTenant(meta: Pick<JobMeta, 'tenant'>): string {
  return meta.tenant ?? DEFAULT_TENANT;
}

/**
 * The id a tenant's job or batch gets: the id as tenant `default` would get it (unchanged, so
 * a deployment from before tenants keeps its ids), with `@<tenant>` appended for any other
 * tenant. Ids minted otherwise never contain `@` (readable keys exclude it, digests and uuids
 * have none), so two tenants never share an id and the tenant can be read back (`tenantOfId`).
 */
export function withTenant(id: string, tenant: string): string {
  return tenant === DEFAULT_TENANT ? id : `${id}@${tenant}`;
}

/** `@<tenant>` at the end of a job or batch id, or before a batch item's `~<index>`. */
const TENANT_SUFFIX = /@([a-z0-9_-]{1,40})(?:~\d+)?$/;

/**
 * The tenant a job, batch, dead-letter or image id belongs to (`withTenant`; a batch item's id
 * carries its batch's): `default` for an id without `@`, undefined for an id with an `@` that
 * no tenant's id has (nobody owns it).
 */
export function tenantOfId(id: string): string | undefined {
  if (!id.includes('@')) return DEFAULT_TENANT;
  const match = TENANT_SUFFIX.exec(id);
  if (!match || id.indexOf('@') !== match.index) return undefined;
  return match[1];
}
