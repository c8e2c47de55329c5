import { type CmeOperation, createLogger, type Outcome } from '@atelier/shared';
import { createCmeHttp } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { SECRET_ID, seedMaterials, startCmeHarness } from './cme-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const USER = 'user_001';

describe('secrets stay out of the logs', () => {
  it('a whole run logs neither the SecretKey, nor a ticket, nor a signature', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'cme-test',
      level: 'trace',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const h = await startCmeHarness(ctx, { logger, config: { requestTimeoutMs: 300 } });
    const [id = '', other = ''] = seedMaterials(h.simulator, USER, 2);

    // Every signature and ticket that crosses the wire, seen from inside the HTTP client.
    const signatures = new Set<string>();
    const tickets = new Set<string>();
    const base = createCmeHttp({ requestTimeoutMs: 300 });
    ctx.onCleanup(async () => base.close());
    const http = {
      close: () => undefined,
      got: base.got.extend({
        hooks: {
          beforeRequest: [
            (options) => {
              const url = new URL(String(options.url));
              const signature = url.searchParams.get('signature');
              const auth = url.searchParams.get('auth');
              if (signature) signatures.add(signature);
              if (auth) tickets.add(auth);
            },
          ],
          afterResponse: [
            (response) => {
              const match = /"Authorization":"([^"]+)"/.exec(String(response.body));
              if (match?.[1]) tickets.add(match[1]);
              return response;
            },
          ],
        },
      }),
    };

    const runners = [h.runner({ logger, http }), h.runner({ logger, http })];
    const report = (outcome: Outcome<unknown>) => {
      // What a processor does with an outcome: log it, error included.
      if (outcome.kind === 'failed') {
        logger.warn({ err: outcome.error, kind: outcome.error.kind }, 'cme operation failed');
      } else logger.info({ outcome }, 'done');
    };
    const op = (materialId: string): CmeOperation => ({
      userId: USER,
      action: 'Material/DescribeMaterials',
      params: { MaterialIds: [materialId] },
    });
    const runAll = async (count: number) => {
      const outcomes = await Promise.all(
        Array.from({ length: count }, (_, i) => runners[i % 2]?.run(op(i % 2 ? id : other))),
      );
      for (const o of outcomes) if (o) report(o);
    };

    await runAll(20);
    h.simulator.expireAll();
    await runAll(20);
    h.simulator.script('Material/DescribeMaterials', [
      { code: 'InternalError' },
      { http: 503 },
      { malformed: true },
      { drop: true },
      { delayMs: 1000 },
    ]);
    await runAll(10);
    h.simulator.setFaults({ forceAuthFailures: 4 });
    await runAll(2);
    h.simulator.resetFaults();
    // A login that keeps failing: SignatureVerifyFail twice (re-signed once).
    h.simulator.revoke();
    h.simulator.script('Login', [{ code: 'SignatureVerifyFail' }, { code: 'SignatureVerifyFail' }]);
    await runAll(1);
    await runAll(4);
    // The stored tickets and the dashboard listing, logged too.
    logger.info({ tickets: await runners[0]?.tickets.list() }, 'tickets');

    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(50);
    expect(text).toContain('cme login succeeded');
    expect(text).toContain('cme operation failed');
    expect(text).toContain('AuthFailure');
    expect(text).toContain('SignatureVerifyFail');
    expect(signatures.size).toBeGreaterThanOrEqual(4);
    expect(tickets.size).toBeGreaterThanOrEqual(3);
    expect(text).not.toContain(h.secretKey);
    expect(text).not.toContain(SECRET_ID);
    for (const ticket of tickets) expect(text).not.toContain(ticket);
    for (const signature of signatures) {
      expect(text).not.toContain(signature);
      expect(text).not.toContain(encodeURIComponent(signature));
      expect(text).not.toContain(signature.slice(0, 28));
    }
  });
});
