import { atelierKeys } from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { beforeRead } from '../support/between-reads.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { deadLetter, startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('dashboard overview while a dead letter is filed', () => {
  it('shows a dead-letter total that its groups add up to', async () => {
    const admin = await startAdmin(ctx);
    const store = new DeadLetterStore(admin.redis, admin.prefix);
    await store.insert(deadLetter('dr_a', '202'));
    await store.insert(deadLetter('dr_b', 'POLL_TIMEOUT'));
    const session = await admin.login();
    // A worker files one more while the overview reads the counts.
    const hook = beforeRead(
      admin.producer.redis,
      atelierKeys(admin.prefix).deadLetters.entries,
      () => store.insert(deadLetter('dr_c', '202')),
    );
    const res = await session.get('/admin');
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(res.statusCode).toBe(200);
    const total = Number(/Dead letters \((\d+)\)/.exec(res.body)?.[1]);
    const grouped = [...res.body.matchAll(/data-dead-code="[^"]+">[\s\S]*?<td class="num">(\d+)</g)]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    expect(grouped).toBeGreaterThanOrEqual(2);
    expect(total).toBe(grouped);
  });
});
