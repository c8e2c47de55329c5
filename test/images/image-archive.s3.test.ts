import { openImageStore } from '@atelier/store';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../support/redis-context.ts';
import { S3_TEST_BUCKET, S3TestServer } from '../support/s3-server.ts';
import { imageArchiveSuite } from './image-archive-suite.ts';

let server: S3TestServer;
beforeAll(async () => {
  server = await S3TestServer.start();
});
afterAll(() => server.close());

/** Every object key under `prefix/` in the test bucket, seen with a client of the test's own. */
async function listObjects(prefix: string): Promise<string[]> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: S3_TEST_BUCKET, Prefix: `${prefix}/` }),
    );
    return (listed.Contents ?? []).map((o) => (o.Key ?? '').slice(prefix.length + 1));
  } finally {
    client.destroy();
  }
}

imageArchiveSuite('S3 (s3rver)', async () => {
  const prefix = `images/${uniquePrefix('s3')}`;
  const store = await openImageStore(server.storeConfig(prefix));
  if (store === undefined) throw new Error('an s3:// config opened no store');
  return { store, listAll: () => listObjects(prefix), close: async () => store.close() };
});

describe('S3ImageStore', () => {
  it('keeps the SHA-256 as object metadata and names itself by bucket and prefix', async () => {
    const prefix = `images/${uniquePrefix('s3')}`;
    const store = await openImageStore(server.storeConfig(prefix));
    try {
      expect(store?.location).toBe(`s3://${S3_TEST_BUCKET}/${prefix}`);
      await store?.put('dr_meta/0.webp', Buffer.from('RIFF....WEBP'), {
        contentType: 'image/webp',
        sha256: 'ab'.repeat(32),
      });
      expect(await store?.head('dr_meta/0.webp')).toEqual({
        bytes: 12,
        contentType: 'image/webp',
        sha256: 'ab'.repeat(32),
      });
      expect(await listObjects(prefix)).toEqual(['dr_meta/0.webp']);
    } finally {
      store?.close();
    }
  });
});
