import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * `worker`: blocking BullMQ workers; commands wait through reconnects (`maxRetriesPerRequest: null`).
 * `producer`: request paths that must fail fast when Redis is away (no offline queue, one retry).
 */
export type RedisRole = 'worker' | 'producer';

export interface RedisConnectionOptions {
  /** `redis://…`, `rediss://…`, or `redis-cluster://host:port,host:port` for Redis Cluster. */
  url: string;
  role: RedisRole;
  /** Shown in `CLIENT LIST`, handy when operating a busy Redis. */
  connectionName?: string;
}

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1000 },
};

/** Reconnect quickly at first, then every two seconds, forever. */
const retryStrategy = (times: number): number => Math.min(times * 100, 2000);

/** Opens a Redis (or Redis Cluster) connection with the options its role needs. */
export function createRedisConnection(options: RedisConnectionOptions): RedisClient {
  const roleOptions: RedisOptions = {
    ...ROLE_OPTIONS[options.role],
    retryStrategy,
    connectionName: options.connectionName,
  };
  if (options.url.startsWith('redis-cluster://')) {
    const nodes = options.url
      .slice('redis-cluster://'.length)
      .split(',')
      .map((hostPort) => {
        const [host = '127.0.0.1', port = '6379'] = hostPort.split(':');
        return { host, port: Number(port) };
      });
    return new Cluster(nodes, {
      redisOptions: roleOptions,
      enableOfflineQueue: roleOptions.enableOfflineQueue ?? true,
      clusterRetryStrategy: retryStrategy,
    });
  }
  return new Redis(options.url, roleOptions);
}

/** True when the URL names a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return url.startsWith('redis-cluster://');
}

/**
 * Resolves once the connection is ready (producer connections refuse commands before that).
 * Rejects after `timeoutMs` without closing the connection: it keeps trying in the background.
 */
export async function redisReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status: ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
