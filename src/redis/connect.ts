/**
 * Redis connection settings shared by everything that talks to Redis (the `redis` pub/sub
 * engine, the rate-limiting `redis` policy): a URL or Kong-style fields in, node-redis client
 * options out. Commands fail fast while Redis is unreachable (no offline queue) so callers can
 * answer 503 instead of hanging; the client keeps reconnecting in the background.
 *
 * @example
 *   const target = parseRedisUrl('rediss://app:s3cret@cache.internal:6380/2');
 *   // { host: 'cache.internal', port: 6380, tls: true, username: 'app', password: 's3cret', database: 2 }
 *   const client = createRedisClient(target, { onError: (e) => log.warn(e) });
 *   await client.connect();
 *   describeRedis(target); // 'rediss://app@cache.internal:6380/2' (no password: safe to log)
 *   const cluster = createCluster(redisClusterOptions(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7000')));
 */
import { createClient, type RedisClientOptions, type RedisClusterOptions } from 'redis';
import type { RedisTarget } from './url.ts';

export { DEFAULT_REDIS_PORT, describeRedis, parseRedisUrl, RedisUrlError, type RedisTarget } from './url.ts';

export interface RedisClientTuning {
  /** Milliseconds to wait for a TCP/TLS connection (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts (default 1000 ms). */
  readonly maxReconnectDelayMs?: number;
  /** Client name shown by `CLIENT LIST`. */
  readonly name?: string;
  /** TLS only: verify the server certificate (default true). */
  readonly rejectUnauthorized?: boolean;
  /** TLS only: the server name to send and verify (default: the host connected to). */
  readonly serverName?: string;
}

/** node-redis options for a target: fail-fast while disconnected, reconnect forever with backoff. */
export function redisClientOptions(target: RedisTarget, tuning: RedisClientTuning = {}): RedisClientOptions {
  const maxDelay = tuning.maxReconnectDelayMs ?? 1000;
  const common = {
    host: target.host,
    port: target.port,
    connectTimeout: tuning.connectTimeoutMs ?? 5000,
    // Never give up: a Redis restart must not leave the node disconnected for good.
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
  };
  return {
    socket: target.tls ? { ...common, ...tlsOptions(tuning), servername: tuning.serverName ?? target.host } : common,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.database !== 0 ? { database: target.database } : {}),
    ...(tuning.name !== undefined ? { name: tuning.name } : {}),
    disableOfflineQueue: true,
  };
}

const tlsOptions = (tuning: RedisClientTuning) => ({ tls: true as const, ...(tuning.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) });

/**
 * node-redis cluster options for a target whose `cluster` lists the seed nodes (a single-node
 * target seeds with itself): the same per-node settings as {@link redisClientOptions}
 * (credentials, TLS, fail-fast, reconnect forever), with each node's TLS server name its own
 * host rather than the first seed's, unless `serverName` fixes one.
 */
export function redisClusterOptions(target: RedisTarget, tuning: RedisClientTuning & { maxCommandRedirections?: number } = {}): RedisClusterOptions {
  const defaults = redisClientOptions({ ...target, database: 0 }, tuning);
  const { servername: _servername, host: _host, port: _port, ...socket } = defaults.socket as Record<string, unknown>;
  return {
    rootNodes: (target.cluster ?? [target]).map(({ host, port }) => ({ socket: { host, port } })),
    defaults: { ...defaults, socket: { ...socket, ...(target.tls && tuning.serverName !== undefined ? { servername: tuning.serverName } : {}) } as RedisClientOptions['socket'] },
    ...(tuning.maxCommandRedirections !== undefined ? { maxCommandRedirections: tuning.maxCommandRedirections } : {}),
  };
}

export type RedisClient = ReturnType<typeof createClient>;

/**
 * A client for the target (not yet connected). `onError` receives connection errors; without a
 * listener node-redis would crash the process on the first one.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientTuning & { onError?: (error: Error) => void } = {}): RedisClient {
  const client = createClient(redisClientOptions(target, options));
  client.on('error', (error: Error) => options.onError?.(error));
  return client;
}
