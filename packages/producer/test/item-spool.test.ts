import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const failOpen = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: (...args: Parameters<typeof actual.open>) =>
      failOpen.on ? Promise.reject(new Error('EMFILE: too many open files')) : actual.open(...args),
  };
});

const { ItemSpool } = await import('../src/lib/item-spool.ts');

describe('ItemSpool', () => {
  let dir: string;
  const previousTmp = process.env.TMPDIR;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
    process.env.TMPDIR = dir;
  });
  afterEach(async () => {
    failOpen.on = false;
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    await rm(dir, { recursive: true, force: true });
  });

  it('gives items back in order, from any index, in chunks, and leaves nothing behind', async () => {
    const spool = await ItemSpool.create<{ i: number }>();
    for (let i = 0; i < 10; i++) await spool.append({ i });
    const chunks: number[][] = [];
    for await (const chunk of spool.chunks(3, 4)) chunks.push(chunk.map((item) => item.i));
    expect(chunks).toEqual([
      [3, 4, 5, 6],
      [7, 8, 9],
    ]);
    expect(spool.count).toBe(10);
    await spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes its temporary folder when the file cannot be opened', async () => {
    failOpen.on = true;
    await expect(ItemSpool.create()).rejects.toThrow(/EMFILE/);
    expect(await readdir(dir)).toEqual([]);
  });
});
