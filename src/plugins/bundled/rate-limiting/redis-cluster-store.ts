/**
 * Kong's `redis` policy on a Redis Cluster (`config.redis.cluster_nodes`): the same script as on
 * one Redis, run by node-redis's cluster client on the master of the keys' slot. Every key of
 * one call must hash to one slot (the handler's keys share a `{…}` tag per identifier); a call
 * that mixes slots is refused before it is sent. Credentials and `ssl` apply to every node,
 * as for the engine's `redis+cluster://` URLs (the same `src/redis/` options).
 *
 * While no seed answers, calls fail at once (fault_tolerant decides) and the cluster is asked
 * again at most every 2 s; once connected, node-redis follows MOVED/ASK (up to
 * `clusterMaxRedirections`) and reconnects to nodes that went away.
 *
 * @example
 *   const store = new RedisClusterStore({ host: '', port: 0, database: 0, timeout: 2000,
 *     clusterNodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }] });
 *   await store.increment(['ratelimit:{p:1.2.3.4}:minute', 'ratelimit:{p:1.2.3.4}:hour'], windows, Date.now());
 */
import { createCluster, type RedisClusterType } from 'redis';
import { redisClusterOptions } from '../../../redis/connect.ts';
import { keySlot } from '../../../redis/slot.ts';
import type { RedisNodeAddress } from '../../../redis/url.ts';
import { replyCounts, scriptCall, SCRIPT, withTimeout } from './redis-script.ts';
import type { ClosableStore, RedisConnection } from './redis-store.ts';
import type { CounterWindow, WindowCount } from './store.ts';

const RETRY_MAX_MS = 2000;

const address = ({ host, port }: RedisNodeAddress) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

export class RedisClusterStore implements ClosableStore {
  private client: RedisClusterType | undefined;
  private connecting: Promise<void> | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastError = '';
  private closed = false;
  private readonly name: string;

  constructor(private readonly connection: RedisConnection, private readonly onError: (message: string) => void = () => {}) {
    this.name = `redis cluster ${(connection.clusterNodes ?? []).map(address).join(',')}`;
  }

  async increment(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): Promise<readonly WindowCount[]> {
    const call = scriptCall(keys, windows, now, by);
    const first = call.keys[0];
    if (first === undefined) return [];
    const slot = keySlot(first);
    const stray = call.keys.find((key) => keySlot(key) !== slot);
    if (stray !== undefined) throw new Error(`${this.name}: counters "${first}" and "${stray}" are in different slots; keys counted together need one {hash tag}`);
    const client = await this.connect();
    const args = ['EVAL', SCRIPT, String(call.keys.length), ...call.keys, ...call.arguments];
    const reply = await withTimeout(client.sendCommand(first, false, args), this.connection.timeout, this.name);
    return replyCounts(keys.length, reply);
  }

  /** Closes every node connection; later calls fail. */
  close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (client?.isOpen === true) client.destroy();
    return Promise.resolve();
  }

  private async connect(): Promise<RedisClusterType> {
    if (this.client !== undefined) return this.client;
    if (this.closed) throw new Error(`${this.name}: store closed`);
    if (this.connecting === undefined) {
      // Known down: fail now rather than make every request wait for a seed to answer.
      if (Date.now() < this.retryAt) throw this.unreachable();
      this.connecting = this.open().finally(() => (this.connecting = undefined));
    }
    await withTimeout(this.connecting, this.connection.timeout, this.name);
    if (this.client === undefined) throw this.unreachable();
    return this.client;
  }

  /** Discovers the cluster from the seeds; on failure, the next attempt waits (100 ms doubling, up to 2 s). */
  private async open(): Promise<void> {
    const c = this.connection;
    const seeds = c.clusterNodes ?? [];
    const first = seeds[0] ?? { host: c.host, port: c.port };
    const client = createCluster(redisClusterOptions(
      { host: first.host, port: first.port, tls: c.ssl === true, database: 0, cluster: seeds, ...(c.username ? { username: c.username } : {}), ...(c.password ? { password: c.password } : {}) },
      {
        connectTimeoutMs: c.timeout > 0 ? c.timeout : 5000,
        maxReconnectDelayMs: RETRY_MAX_MS,
        rejectUnauthorized: c.sslVerify === true,
        ...(c.serverName ? { serverName: c.serverName } : {}),
        ...(c.clusterMaxRedirections !== undefined ? { maxCommandRedirections: c.clusterMaxRedirections } : {}),
      },
    )) as unknown as RedisClusterType;
    const report = (error: Error) => {
      // node-redis reports every failed reconnect; one log line per distinct error is enough.
      if (error.message !== this.lastError) this.onError(`${this.name}: ${error.message}`);
      this.lastError = error.message;
    };
    client.on('error', report);
    client.on('node-error', report);
    try {
      await client.connect();
    } catch (e) {
      report(e instanceof Error ? e : new Error(String(e)));
      if (client.isOpen) client.destroy();
      this.retryAt = Date.now() + Math.min(100 * 2 ** this.failures++, RETRY_MAX_MS);
      return;
    }
    if (this.closed) {
      client.destroy();
      return;
    }
    this.failures = 0;
    this.lastError = '';
    this.client = client;
  }

  private unreachable(): Error {
    return new Error(`${this.name} is not reachable${this.lastError ? `: ${this.lastError}` : ''}`);
  }
}
