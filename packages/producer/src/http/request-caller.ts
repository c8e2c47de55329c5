import type { FastifyRequest } from 'fastify';
import type { Producer } from '../lib/producer.ts';
import type { ApiCaller } from './api-key-auth.ts';

interface Scoped {
  caller: ApiCaller;
  producer: Producer;
}

const scopes = new WeakMap<FastifyRequest, Scoped>();

/**
 * Notes who sent an authenticated `/v1` request and the producer acting for them: their
 * tenant's view (`producer.forTenant`), seeing every tenant's work for an admin key.
 */
export function setCaller(request: FastifyRequest, caller: ApiCaller, root: Producer): void {
  const producer =
    caller.tenant === root.tenant && caller.admin === root.seesAll
      ? root
      : root.forTenant(caller.tenant, { seesAll: caller.admin });
  scopes.set(request, { caller, producer });
}

/** The caller of an authenticated request (undefined before authentication). */
export function callerOf(request: FastifyRequest): ApiCaller | undefined {
  return scopes.get(request)?.caller;
}

/** The producer a `/v1` handler acts through: the caller's tenant's. */
export function producerFor(request: FastifyRequest): Producer {
  const scoped = scopes.get(request);
  if (!scoped) throw new Error('producerFor: the request was not authenticated');
  return scoped.producer;
}
