import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageStoreConfig, loadConfig } from '@atelier/shared';
import S3rver from 's3rver';

export const S3_TEST_BUCKET = 'atelier-test-images';
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

/** A real S3-protocol server (s3rver) on a free loopback port, its data in a temporary folder. */
export class S3TestServer {
  readonly endpoint: string;
  readonly #server: S3rver;
  readonly #directory: string;

  private constructor(server: S3rver, endpoint: string, directory: string) {
    this.#server = server;
    this.endpoint = endpoint;
    this.#directory = directory;
  }

  static async start(): Promise<S3TestServer> {
    const directory = await mkdtemp(join(tmpdir(), 'atelier-s3rver-'));
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: [{ name: S3_TEST_BUCKET, configs: [] }],
    });
    const { port } = await server.run();
    return new S3TestServer(server, `http://127.0.0.1:${port}`, directory);
  }

  /** The environment a process needs to archive into this server under `prefix`. */
  env(prefix: string): Record<string, string> {
    return {
      ATELIER_IMAGE_STORE: `s3://${S3_TEST_BUCKET}/${prefix}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      ATELIER_S3_ENDPOINT: this.endpoint,
      ATELIER_S3_FORCE_PATH_STYLE: 'true',
    };
  }

  /** The store config those variables load to. */
  storeConfig(prefix: string): ImageStoreConfig {
    return loadConfig(this.env(prefix)).images.store;
  }

  async close(): Promise<void> {
    await this.#server.close();
    await rm(this.#directory, { recursive: true, force: true });
  }
}
