/**
 * Kong's `redis` policy: counters shared by every node in one Redis, one atomic Lua script per
 * call (redis-script.ts). With `clusterNodes` set the store is a Redis Cluster's
 * (redis-cluster-store.ts); `redisStoreFor` picks.
 *
 * @example
 *   const store = redisStoreFor({ host: '127.0.0.1', port: 6379, database: 0, timeout: 2000 });
 *   await store.increment(['ratelimit:{x:1.2.3.4}:minute'], [{ start, keepUntil }], Date.now());
 */
import { createClient, type RedisClientType } from 'redis';
import type { RedisNodeAddress } from '../../../redis/url.ts';
import { RedisClusterStore } from './redis-cluster-store.ts';
import { replyCounts, scriptCall, SCRIPT, withTimeout } from './redis-script.ts';
import type { CounterWindow, RateLimitStore, WindowCount } from './store.ts';

/** Kong's `config.redis` fields that decide the connection. */
export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly database: number;
  readonly ssl?: boolean | undefined;
  readonly sslVerify?: boolean | undefined;
  readonly serverName?: string | undefined;
  /** ms for connecting and for each call; past it the call fails (and fault_tolerant decides). */
  readonly timeout: number;
  /** Kong's `cluster_nodes`: when set, the seeds of a Redis Cluster (`host`/`port`/`database` are then unused). */
  readonly clusterNodes?: readonly RedisNodeAddress[] | undefined;
  /** Kong's `cluster_max_redirections`: MOVED/ASK hops one call may follow. */
  readonly clusterMaxRedirections?: number | undefined;
}

/** A store that holds connections: closing it ends them. */
export interface ClosableStore extends RateLimitStore {
  close(): Promise<void>;
}

export class RedisStore implements ClosableStore {
  private readonly client: RedisClientType;
  private connecting: Promise<void> | undefined;
  private lastError = '';

  constructor(private readonly connection: RedisConnection, private readonly onError: (message: string) => void = () => {}) {
    this.client = createClient({
      socket: {
        host: connection.host,
        port: connection.port,
        connectTimeout: connection.timeout,
        ...(connection.ssl ? { tls: true as const, rejectUnauthorized: connection.sslVerify === true, ...(connection.serverName ? { servername: connection.serverName } : {}) } : {}),
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
      },
      ...(connection.username ? { username: connection.username } : {}),
      ...(connection.password ? { password: connection.password } : {}),
      database: connection.database,
      // Calls fail at once while Redis is away instead of queueing behind the reconnect.
      disableOfflineQueue: true,
    });
    this.client.on('error', (error: Error) => {
      // node-redis reports every failed reconnect; one log line per distinct error is enough.
      if (error.message !== this.lastError) this.onError(`redis ${connection.host}:${connection.port}: ${error.message}`);
      this.lastError = error.message;
    });
    this.client.on('ready', () => (this.lastError = ''));
    this.client.unref(); // the connection alone never keeps the process alive
  }

  async increment(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): Promise<readonly WindowCount[]> {
    await this.connect();
    const reply = await this.withTimeout(this.client.eval(SCRIPT, scriptCall(keys, windows, now, by)));
    return replyCounts(keys.length, reply);
  }

  /** Closes the connection; later calls fail. */
  async close(): Promise<void> {
    try {
      if (this.client.isReady) await this.client.close();
      else if (this.client.isOpen) this.client.destroy();
    } catch {
      // already closed
    }
  }

  private async connect(): Promise<void> {
    if (this.client.isReady) return;
    // Known down (reconnecting after a loss, or a first connect that already failed): fail now,
    // the request must not wait for Redis to come back; node-redis keeps reconnecting meanwhile.
    if (this.lastError !== '' || (this.client.isOpen && this.connecting === undefined)) throw this.unreachable();
    this.connecting ??= this.client.connect().then(
      () => undefined,
      () => undefined,
    ).finally(() => (this.connecting = undefined));
    await this.withTimeout(this.connecting);
    if (!this.client.isReady) throw this.unreachable();
  }

  private unreachable(): Error {
    return new Error(`redis ${this.connection.host}:${this.connection.port} is not reachable${this.lastError ? `: ${this.lastError}` : ''}`);
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    return withTimeout(work, this.connection.timeout, `redis ${this.connection.host}:${this.connection.port}`);
  }
}

const stores = new Map<string, ClosableStore>();

/**
 * The node's store for one Redis (or Redis Cluster): shared by every plugin instance with the
 * same connection fields and kept across config reloads (counters live in Redis; the connection
 * is reused).
 */
export function redisStoreFor(connection: RedisConnection, onError?: (message: string) => void): ClosableStore {
  const key = JSON.stringify(connection);
  let store = stores.get(key);
  if (store === undefined) {
    store = connection.clusterNodes !== undefined ? new RedisClusterStore(connection, onError) : new RedisStore(connection, onError);
    stores.set(key, store);
  }
  return store;
}

/** Closes every shared store (tests; a process exiting needs nothing: the connections are unref'd). */
export async function closeRedisStores(): Promise<void> {
  const closing = [...stores.values()].map((store) => store.close());
  stores.clear();
  await Promise.all(closing);
}
