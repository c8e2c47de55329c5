import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { maskSecrets, maskString } from './mask-secrets.ts';

const DESCRIPTIONS: Record<string, string> = {
  drawing: 'AI drawing tasks: submit, then poll (delayed = waiting for the next poll or a retry)',
  cme: 'Tencent CME material operations',
  callbacks: 'webhook deliveries to callers',
};

/**
 * bull-board 9 under `<basePath>` (the scope's `/queues`) for every Atelier queue, read-only:
 * replays, deletes and resumes go through the Atelier pages, which keep dead letters and batch
 * counters exact (a bull-board retry of a dead-lettered job would only fail again as
 * `ALREADY_DEAD`, and clean/obliterate would drop work). Job data, return values, progress and
 * names pass through formatters that mask secrets, and every API answer (failed reasons,
 * stack traces, logs, options) is masked once more by an `after` hook before it leaves.
 */
export async function registerBullBoard(
  scope: FastifyInstance,
  queues: Queue[],
  basePath: string,
  options: { simulator: boolean },
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => {
      const adapter = new BullMQAdapter(queue, {
        readOnlyMode: true,
        allowRetries: false,
        description: DESCRIPTIONS[queue.name] ?? '',
      });
      adapter.setFormatter('data', maskSecrets);
      adapter.setFormatter('returnValue', maskSecrets);
      adapter.setFormatter('progress', maskSecrets);
      adapter.setFormatter('name', (job: { name?: unknown }) => maskString(String(job.name ?? '')));
      return adapter;
    }),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: options.simulator ? 'Atelier queues — SIMULATOR' : 'Atelier queues',
        miscLinks: [{ text: 'Atelier overview', url: '/admin' }],
        hideDocsLink: true,
      },
      handlerHooks: {
        after: (_context, result) => ({
          ...result,
          body: maskSecrets(result.body) as typeof result.body,
        }),
      },
    },
  });
  await scope.register(serverAdapter.registerPlugin(), { prefix: '/queues' });
}
