import { createRedisConnection, type RedisClient } from '@atelier/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../../../test/support/redis-cluster.ts';
import { EXERCISED, exerciseEveryScript } from './support/exercise-scripts.ts';

let cluster: RedisCluster;
let redis: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  redis = createRedisConnection({ url: cluster.url, role: 'worker' });
});

afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

describe("the store's Lua scripts on a 3-master Redis Cluster", () => {
  it('each does its work under a hash-tagged prefix (one slot per deployment)', async () => {
    expect(await exerciseEveryScript(redis, '{store-cluster}')).toEqual(EXERCISED);
  });
});
