/**
 * Kong's `redis` policy: counters shared by every node in one Redis. One Lua script per call
 * counts (or takes back) a request in all its windows atomically and reads the previous
 * windows' counts, so N nodes racing on one limit let exactly L requests through.
 *
 * A counter is a hash `{count, keep}`: `keep` is the caller's `keepUntil`, so expiry follows
 * the gateway's clock (as the local store does) and `PEXPIRE` only collects the garbage.
 *
 * @example
 *   const store = redisStoreFor({ host: '127.0.0.1', port: 6379, database: 0, timeout: 2000 });
 *   await store.increment(['ratelimit:x:ip:minute'], [{ start, keepUntil }], Date.now());
 */
import { createClient, type RedisClientType } from 'redis';
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
}

// KEYS: per window, its counter then its previous window's counter (the same key when not wanted).
// ARGV: by, now, then per window: keepUntil, wantPrevious (1/0).
const SCRIPT = `
local by = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS / 2 do
  local key = KEYS[2 * i - 1]
  local keep = tonumber(ARGV[1 + 2 * i])
  local stored = redis.call('HMGET', key, 'count', 'keep')
  local count = 0
  if stored[2] and tonumber(stored[2]) > now then count = tonumber(stored[1]) end
  if by > 0 or count > 0 then
    count = math.max(0, count + by)
    redis.call('HSET', key, 'count', count, 'keep', keep)
    redis.call('PEXPIRE', key, math.max(1, keep - now))
  end
  local previous = 0
  if ARGV[2 + 2 * i] == '1' then
    local before = redis.call('HMGET', KEYS[2 * i], 'count', 'keep')
    if before[2] and tonumber(before[2]) > now then previous = tonumber(before[1]) end
  end
  out[2 * i - 1] = count
  out[2 * i] = previous
end
return out
`;

export class RedisStore implements RateLimitStore {
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
    const scriptKeys: string[] = [];
    const args: string[] = [String(by), String(now)];
    keys.forEach((key, i) => {
      const window = windows[i] as CounterWindow;
      scriptKeys.push(`${key}|${window.start}`, window.previousStart === undefined ? `${key}|${window.start}` : `${key}|${window.previousStart}`);
      args.push(String(window.keepUntil), window.previousStart === undefined ? '0' : '1');
    });
    const reply = (await this.withTimeout(this.client.eval(SCRIPT, { keys: scriptKeys, arguments: args }))) as number[];
    return keys.map((_, i) => ({ current: Number(reply[2 * i]), previous: Number(reply[2 * i + 1]) }));
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
    if (this.connection.timeout <= 0) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis ${this.connection.host}:${this.connection.port} did not answer in ${this.connection.timeout} ms`)), this.connection.timeout);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

const stores = new Map<string, RedisStore>();

/**
 * The node's store for one Redis: shared by every plugin instance with the same connection
 * fields and kept across config reloads (counters live in Redis; the connection is reused).
 */
export function redisStoreFor(connection: RedisConnection, onError?: (message: string) => void): RedisStore {
  const key = JSON.stringify(connection);
  let store = stores.get(key);
  if (store === undefined) stores.set(key, (store = new RedisStore(connection, onError)));
  return store;
}

/** Closes every shared store (tests; a process exiting needs nothing: the connections are unref'd). */
export async function closeRedisStores(): Promise<void> {
  const closing = [...stores.values()].map((store) => store.close());
  stores.clear();
  await Promise.all(closing);
}
