import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { adminOnly } from '../src/http/admin-only.ts';
import { setCaller } from '../src/http/request-caller.ts';
import type { Producer } from '../src/lib/producer.ts';

/** A producer that only knows its tenant (the guard never calls it). */
function producerOf(tenant: string, seesAll: boolean): Producer {
  const stub = {
    tenant,
    seesAll,
    forTenant: (t: string, o?: { seesAll?: boolean }) => producerOf(t, o?.seesAll ?? false),
  };
  return stub as unknown as Producer;
}

function requestOf(tenant: string, admin: boolean): FastifyRequest {
  const request = {} as FastifyRequest;
  setCaller(request, { tenant, admin, fingerprint: '00' }, producerOf('default', true));
  return request;
}

describe('adminOnly', () => {
  it('lets an admin key through', async () => {
    await expect(adminOnly(requestOf('ops', true))).resolves.toBeUndefined();
  });

  it("refuses a tenant's key, and a request nobody authenticated, naming ATELIER_ADMIN_KEYS", async () => {
    for (const request of [requestOf('acme', false), {} as FastifyRequest]) {
      await expect(adminOnly(request)).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('ATELIER_ADMIN_KEYS'),
      });
    }
  });
});
