import type { JobMeta } from './job-payloads.ts';

/** The tenant of work enqueued with a bare API key (today: every key). */
export const DEFAULT_TENANT = 'default';

/** Whose work a job is: the tenant its API key names, `default` for a bare key. */
export function jobTenant(meta: Pick<JobMeta, 'tenant'>): string {
  return meta.tenant ?? DEFAULT_TENANT;
}
