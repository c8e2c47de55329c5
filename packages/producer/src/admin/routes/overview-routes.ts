import { Readable } from 'node:stream';
import { configuredTenants, isTenantName } from '@atelier/shared';
import type { BatchItemResult } from '@atelier/store';
import type { FastifyInstance } from 'fastify';
import { type AdminContext, pageContext } from '../admin-context.ts';
import { maskSecrets } from '../mask-secrets.ts';
import { noticeFor } from '../notice.ts';
import { chartRange } from '../pages/charts-section.ts';
import { overviewPage } from '../pages/overview-page.ts';

const LINES_PER_CHUNK = 500;

/** `GET /admin` (the overview) and `GET /admin/batches/:id/results` (masked NDJSON). */
export function overviewRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { options, overview, guard } = ctx;

  scope.get<{ Querystring: Record<string, string | undefined> }>('/', async (request, reply) => {
    const tenant = tenantParam(request.query.tenant);
    const data = await guard.run(() => overview.read(options.now(), undefined, tenant), 10_000);
    const notice = noticeFor(request.query);
    const page = overviewPage(
      pageContext(ctx, request, { refreshSec: options.refreshSec, ...(notice ? { notice } : {}) }),
      data,
      configuredTenants(options.config),
      { range: chartRange(request.query), assets: ctx.assets },
    );
    return reply.type('text/html; charset=utf-8').send(page);
  });

  scope.get<{ Params: { id: string } }>('/batches/:id/results', async (request, reply) => {
    const { id } = request.params;
    await options.producer.getBatch(id); // unknown batch: 404 before streaming starts
    const stream = Readable.from(maskedChunks(options.producer.batchResults(id)));
    return reply.type('application/x-ndjson; charset=utf-8').send(stream);
  });
}

async function* maskedChunks(lines: AsyncIterable<BatchItemResult>): AsyncGenerator<string> {
  let chunk = '';
  let count = 0;
  for await (const line of lines) {
    chunk += `${JSON.stringify(maskSecrets(line))}\n`;
    if (++count >= LINES_PER_CHUNK) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk !== '') yield chunk;
}

/** A `tenant` query parameter that names a tenant (anything else: no filter). */
export function tenantParam(value: string | undefined): string | undefined {
  return value !== undefined && isTenantName(value) ? value : undefined;
}
