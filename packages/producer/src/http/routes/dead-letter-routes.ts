import { ValidationError, validate } from '@atelier/shared';
import type { DeadLetterFilter } from '@atelier/store';
import type { FastifyInstance } from 'fastify';
import { producerFor } from '../request-caller.ts';
import { accepted, type RouteContext } from '../route-context.ts';

type IdParams = { Params: { id: string } };

/**
 * Dead letters: list (filters in the query), read, replay and delete one; replay or purge
 * every entry matching a filter (`POST /v1/dead-letters/replay|purge`, filter in the body;
 * an empty filter must say `"all": true`). A tenant's key sees and acts on its own tenant's
 * entries only; an admin key on every tenant's, and may filter by `tenant`.
 */
export function deadLetterRoutes(app: FastifyInstance, { schemas }: RouteContext): void {
  app.get('/dead-letters', async (request) => {
    const { offset, limit, ...filter } = validate(schemas.deadLetterQuery, request.query, 'query');
    return producerFor(request).listDeadLetters(filter as DeadLetterFilter, { offset, limit });
  });

  app.get<IdParams>('/dead-letters/:id', async (request) =>
    producerFor(request).getDeadLetter(request.params.id),
  );

  app.post<IdParams>('/dead-letters/:id/replay', async (request, reply) => {
    const { id } = request.params;
    await producerFor(request).replayDeadLetter(id);
    return accepted(reply, `/v1/jobs/${id}`, true, { id });
  });

  app.delete<IdParams>('/dead-letters/:id', async (request, reply) => {
    await producerFor(request).deleteDeadLetter(request.params.id);
    return reply.code(204).send();
  });

  app.post('/dead-letters/replay', async (request, reply) => {
    const replayed = await producerFor(request).replayDeadLetters(bulkFilter(request.body));
    reply.code(202);
    return { replayed };
  });

  app.post('/dead-letters/purge', async (request) => {
    const purged = await producerFor(request).purgeDeadLetters(bulkFilter(request.body));
    return { purged };
  });

  function bulkFilter(body: unknown): DeadLetterFilter {
    const { all, since, until, ...rest } = validate(schemas.deadLetterBulkBody, body ?? {});
    const filter: DeadLetterFilter = { ...rest };
    if (since !== undefined) filter.since = typeof since === 'number' ? since : Date.parse(since);
    if (until !== undefined) filter.until = typeof until === 'number' ? until : Date.parse(until);
    const empty = Object.values(filter).every((value) => value === undefined);
    if (empty && all !== true) {
      throw new ValidationError([
        {
          field: 'all',
          rule: 'required',
          message:
            'all is required with an empty filter: send "all": true to mean every dead letter',
        },
      ]);
    }
    return filter;
  }
}
