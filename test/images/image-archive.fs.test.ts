import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FsImageStore, openImageStore } from '@atelier/store';
import { describe, expect, it } from 'vitest';
import { imageArchiveSuite } from './image-archive-suite.ts';

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

imageArchiveSuite('the file system', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-images-'));
  return {
    store: new FsImageStore(dir),
    listAll: () => listFiles(dir),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FsImageStore', () => {
  it('is what fs:<dir> opens, rooted at the absolute directory', async () => {
    const store = await openImageStore({ kind: 'fs', dir: 'relative/images' });
    expect(store?.location).toBe(`fs:${join(process.cwd(), 'relative/images')}`);
    expect(await openImageStore({ kind: 'none' })).toBeUndefined();
  });

  it('replaces a file whole: a reader that opened the old one still reads the old bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atelier-images-'));
    try {
      const store = new FsImageStore(dir);
      const info = { contentType: 'image/png', sha256: '' };
      await store.put('dr_x/0.png', Buffer.from('first version'), info);
      const reading = await store.get('dr_x/0.png');
      await store.put('dr_x/0.png', Buffer.from('second, longer version'), info);
      const chunks: Buffer[] = [];
      for await (const chunk of reading?.body ?? []) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('first version');
      expect(await store.head('dr_x/0.png')).toEqual({ bytes: 22, contentType: 'image/png' });
      expect(await listFiles(dir)).toEqual(['dr_x/0.png']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
