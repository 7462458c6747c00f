/**
 * The redis engine's links to a Redis Cluster: node-redis's cluster client runs every script on
 * the master of the script's slot, `ShardedSubscriber` holds the SSUBSCRIBEs, and
 * `ClusterTopology` keeps both following failovers (re-read on any connection trouble and every
 * few seconds). Every call is bounded by the command timeout.
 *
 * Acknowledged means replicated: Redis replicates asynchronously, so a master that dies right
 * after a publish can take it along while the publisher already got 201/202. When the channel's
 * master has a replica, a publish therefore waits (WAIT 1, up to `replicaWaitMs`) until one
 * replica has the write, and answers 503 when none confirmed in time. The price: one more round
 * trip plus the replication delay per publish, and a publish answered 503 may still have been
 * stored and delivered (a publisher that retries can cause a duplicate; one that does not may
 * miss nothing but is told so). `replicaWaitMs: 0` turns this off (fastest, may lose the last
 * writes on a failover).
 *
 * @example
 *   const links = new ClusterConnection(parseRedisUrl('redis+cluster://10.0.0.1:7000'), events, options);
 *   await links.ready;
 */
import { createCluster, ErrorReply, type RedisClusterType } from 'redis';
import { describeRedis, redisClusterOptions, type RedisTarget } from '../../../redis/connect.ts';
import { ClusterTopology } from './cluster-topology.ts';
import { BUFFERS } from './connection.ts';
import { bounded, type CommandLink, type EngineLinks, type LinkEvents, type LinkOptions } from './link.ts';
import { ShardedSubscriber } from './sharded-subscriber.ts';

/** How often the topology is re-read when nothing went wrong (replicas come and go too). */
const REFRESH_EVERY_MS = 5000;

/** Errors after which the slot map may be stale. */
const STALE_MAP = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|MASTERDOWN|READONLY)/;

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export class ClusterConnection implements EngineLinks {
  readonly cluster = true;
  readonly cmd: CommandLink;
  readonly sub: ShardedSubscriber;
  readonly ready: Promise<void>;
  readonly description: string;
  private readonly client: RedisClusterType;
  private readonly topology: ClusterTopology;
  private connected = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly readyWaiters = new Set<() => void>();

  constructor(target: RedisTarget, private readonly events: LinkEvents, private readonly options: LinkOptions) {
    this.description = describeRedis(target);
    this.client = createCluster(redisClusterOptions(target, { name: `sluice-${options.nodeId}` })) as unknown as RedisClusterType;
    this.client.on('error', (e: Error) => events.onError(e, 'command'));
    this.client.on('node-error', (e: Error) => {
      events.onError(e, 'command');
      this.refreshSoon();
    });
    this.topology = new ClusterTopology(this.client, options.commandTimeoutMs);
    this.sub = new ShardedSubscriber({ target, topology: this.topology, events, nodeId: options.nodeId, timeoutMs: options.commandTimeoutMs });
    const timeout = options.commandTimeoutMs;
    const send = async <T>(key: string | undefined, args: readonly (string | Buffer)[], buffers = false, ms = timeout): Promise<T> => {
      if (!this.connected) throw new Error(`${this.description} is not connected yet`);
      try {
        // Bounded here: node-redis's own `timeout` option does not fire once a command was written.
        return await bounded(this.client.sendCommand<T>(key, false, [...args], buffers ? { typeMapping: BUFFERS } : {}), ms, String(args[0]));
      } catch (e) {
        if (!(e instanceof ErrorReply) || STALE_MAP.test(e.message)) this.refreshSoon();
        throw e;
      }
    };
    const isReady = () => this.connected && !this.closed;
    this.cmd = {
      get isReady() {
        return isReady();
      },
      send,
      replicated: async (key) => {
        const wait = options.replicaWaitMs;
        if (!(wait > 0) || (this.topology.shardOf(key)?.replicas ?? 0) === 0) return;
        const acked = await send<number>(key, ['WAIT', '1', String(wait)], false, Math.max(timeout, wait + 1000));
        if (acked < 1) {
          // The replica may be gone (or the master replaced) since the map was read: read it again now, not in 5 s.
          this.refreshSoon();
          throw new Error(`no replica of ${this.topology.shardOf(key)?.address ?? 'the master'} confirmed the write within ${wait} ms`);
        }
      },
      scan: (pattern) => this.scan(pattern),
    };
    this.ready = new Promise<void>((resolve) => this.readyWaiters.add(resolve));
    this.timer = setInterval(() => this.refreshSoon(), REFRESH_EVERY_MS);
    this.timer.unref();
    void this.connect();
  }

  commandReady(timeoutMs = 30_000): Promise<boolean> {
    if (this.cmd.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.readyWaiters.delete(done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.readyWaiters.add(done);
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.sub.close();
    if (this.client.isOpen) this.client.destroy();
  }

  /** Discovers the cluster, retrying until some seed answers (Redis may come later). */
  private async connect(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.client.connect();
        await this.topology.refresh();
        break;
      } catch (e) {
        this.events.onError(asError(e), 'command');
        if (this.client.isOpen) this.client.destroy();
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)).unref());
      }
    }
    if (this.closed) return;
    this.connected = true;
    this.sub.started = true;
    for (const waiter of [...this.readyWaiters]) waiter();
    this.readyWaiters.clear();
    this.events.onCommandReady();
  }

  private refreshing = false;

  /** Re-reads the topology in the background; after a change, counts are re-asserted. */
  private refreshSoon(): void {
    if (!this.connected || this.closed || this.refreshing) return;
    this.refreshing = true;
    this.topology.refresh().then(
      (changed) => {
        if (changed && !this.closed) this.events.onCommandReady();
      },
      (e: unknown) => this.events.onError(asError(e), 'command'),
    ).finally(() => (this.refreshing = false));
  }

  /** SCAN on every master for keys matching `pattern`. */
  private async scan(pattern: string): Promise<string[]> {
    if (!this.connected) throw new Error(`${this.description} is not connected yet`);
    const found = new Set<string>();
    await Promise.all(this.client.masters.map(async (master) => {
      const client = await this.client.nodeClient(master);
      let cursor = '0';
      do {
        const [next, keys] = await bounded(client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']), this.options.commandTimeoutMs, 'SCAN');
        for (const key of keys) found.add(key);
        cursor = String(next);
      } while (cursor !== '0');
    }));
    return [...found];
  }
}
