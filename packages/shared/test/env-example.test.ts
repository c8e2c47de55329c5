import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

describe('.env.example, README and docker-compose.yml', () => {
  const source = read('packages/shared/src/config/config.ts');
  const read_ = [...source.matchAll(/e\.\w+\('([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]);
  const variables = [...new Set(read_)];

  it('the config reads the variables DESIGN.md names', () => {
    for (const name of [
      'REDIS_URL',
      'ATELIER_QUEUE_PREFIX',
      'PORT',
      'DRAWING_AUTH_MODE',
      'WORKER_METRICS_PORT',
    ]) {
      expect(variables).toContain(name);
    }
  });

  it.each(['.env.example', 'README.md'])('%s documents every variable the config reads', (file) => {
    const text = read(file);
    const missing = variables.filter((name) => !new RegExp(`\\b${name}\\b`).test(text));
    expect(missing).toEqual([]);
  });

  it('docker-compose.yml hands every variable the config reads to the containers', () => {
    const compose = read('docker-compose.yml');
    const missing = variables.filter((name) => !new RegExp(`^ +${name}: `, 'm').test(compose));
    expect(missing).toEqual([]);
  });
});
