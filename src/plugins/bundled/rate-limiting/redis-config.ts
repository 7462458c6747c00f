/**
 * From Kong's rate-limiting config to the node's shared Redis store. The pre-3.6 `redis_*`
 * shorthands win when given (Kong translates them onto the 3.6+ `redis` record), the record
 * gives the rest. `redis.cluster_nodes` (no shorthand) selects a Redis Cluster.
 */
import { BatchedStore } from './batched-store.ts';
import { redisStoreFor, type RedisConnection } from './redis-store.ts';
import type { Config } from './schema.ts';
import type { RateLimitStore } from './store.ts';

export function redisConnectionOf(config: Config): RedisConnection {
  const redis = config.redis;
  return {
    host: config.redis_host ?? redis?.host ?? '',
    port: config.redis_port ?? redis?.port ?? 6379,
    username: config.redis_username ?? redis?.username ?? undefined,
    password: config.redis_password ?? redis?.password ?? undefined,
    database: config.redis_database ?? redis?.database ?? 0,
    ssl: config.redis_ssl ?? redis?.ssl ?? false,
    sslVerify: config.redis_ssl_verify ?? redis?.ssl_verify ?? false,
    serverName: config.redis_server_name ?? redis?.server_name ?? undefined,
    timeout: config.redis_timeout ?? redis?.timeout ?? 2000,
    ...(redis?.cluster_nodes
      ? { clusterNodes: redis.cluster_nodes.map(({ ip, port }) => ({ host: ip, port })), clusterMaxRedirections: redis.cluster_max_redirections }
      : {}),
  };
}

const batched = new Map<string, BatchedStore>();

/**
 * `sync_rate` -1 (or 0): every request is one atomic script in Redis. Above 0: counted locally and
 * synced every `sync_rate` seconds. Stores are per connection (and rate), kept across reloads.
 */
export function sharedRedisStore(connection: RedisConnection, syncRate: number, onError: (message: string) => void): RateLimitStore {
  const central = redisStoreFor(connection, onError);
  if (!(syncRate > 0)) return central;
  const key = `${JSON.stringify(connection)}@${syncRate}`;
  let store = batched.get(key);
  if (store === undefined) batched.set(key, (store = new BatchedStore(central, Math.max(20, syncRate * 1000), onError)));
  return store;
}

/** Stops the sync timers (tests). */
export function stopBatchedStores(): void {
  for (const store of batched.values()) store.stop();
  batched.clear();
}
