import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/loaded-packages.ts', import.meta.url));
/**
 * What a service that only enqueues must not pay for (the AWS SDK loads only when an S3 image
 * store is opened).
 */
const SERVER_PACKAGES = /^(fastify|@fastify\/.*|@bull-board\/.*|prom-client|@aws-sdk\/.*)$/;

/** The npm packages Node loads for `import(specifier)`, in a fresh process. */
function loadedPackages(specifier: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [FIXTURE, specifier], { timeout: 30_000 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout) as string[]);
    });
  });
}

describe('the producer entry points', () => {
  it('@atelier/producer (the library) loads BullMQ but no Fastify, bull-board or prom-client', async () => {
    const loaded = await loadedPackages('@atelier/producer');
    expect(loaded).toContain('bullmq');
    expect(loaded).toContain('ioredis');
    expect(loaded.filter((name) => SERVER_PACKAGES.test(name))).toEqual([]);
  });

  it('@atelier/producer/cli loads the library, not the server', async () => {
    const loaded = await loadedPackages('@atelier/producer/cli');
    expect(loaded).toContain('bullmq');
    expect(loaded.filter((name) => SERVER_PACKAGES.test(name))).toEqual([]);
  });

  it('@atelier/producer/http loads Fastify, prom-client and the dashboard', async () => {
    const loaded = await loadedPackages('@atelier/producer/http');
    expect(loaded).toEqual(
      expect.arrayContaining(['fastify', 'prom-client', '@bull-board/api', '@bull-board/fastify']),
    );
  });

  it('@atelier/producer/admin loads bull-board', async () => {
    const loaded = await loadedPackages('@atelier/producer/admin');
    expect(loaded).toEqual(expect.arrayContaining(['@bull-board/api', '@bull-board/fastify']));
  });
});
