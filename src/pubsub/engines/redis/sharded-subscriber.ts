/**
 * The pub/sub link to a Redis Cluster: each notify key is SSUBSCRIBEd on the master serving its
 * slot, over one connection per master (sharded pub/sub: a SPUBLISH only reaches the shard's own
 * nodes). When a connection fails, or a master drops a subscription (its slot moved, or it was
 * demoted to replica: Redis sends SUNSUBSCRIBE), the link reports the loss at once, then keeps
 * re-reading the topology and moving subscriptions to the serving masters until every one is
 * confirmed again, and reports it back (the engine then replays the gap from the buffers).
 *
 * node-redis's own cluster client is not used for this: it keeps a dead master's subscriptions on
 * a connection that retries the dead address forever, and drops them when the topology changes.
 *
 * @example
 *   const sub = new ShardedSubscriber({ target, topology, events, nodeId, timeoutMs });
 *   await sub.subscribe('sluice:ch:{chat}:n', (payload) => …);
 */
import { createRedisClient, type RedisClient, type RedisTarget } from '../../../redis/connect.ts';
import type { ClusterTopology, Shard } from './cluster-topology.ts';
import { bounded, type LinkEvents, type PayloadListener, type PubSubLink } from './link.ts';

export interface ShardedSubscriberOptions {
  readonly target: RedisTarget;
  readonly topology: ClusterTopology;
  readonly events: LinkEvents;
  readonly nodeId: string;
  readonly timeoutMs: number;
}

interface Subscription {
  readonly listener: PayloadListener;
  /** The master it is confirmed on; undefined while it must be (re)subscribed. */
  address: string | undefined;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export class ShardedSubscriber implements PubSubLink {
  private readonly subs = new Map<string, Subscription>();
  private readonly clients = new Map<string, { client: RedisClient; connected: Promise<RedisClient> }>();
  private troubleSince: number | undefined;
  private repairing: Promise<void> | undefined;
  private closed = false;
  /** Set once the topology was read: until then nothing can be subscribed. */
  started = false;

  constructor(private readonly options: ShardedSubscriberOptions) {}

  get isReady(): boolean {
    return this.started && !this.closed && this.troubleSince === undefined;
  }

  async subscribe(key: string, listener: PayloadListener): Promise<void> {
    const sub: Subscription = { listener, address: undefined };
    this.subs.set(key, sub);
    const shard = this.options.topology.shardOf(key);
    if (shard === undefined) throw new Error(`no master serves ${key}`);
    const client = await this.clientFor(shard);
    await bounded(client.sSubscribe(key, listener, true), this.options.timeoutMs, 'SSUBSCRIBE');
    if (this.subs.get(key) === sub) sub.address = shard.address;
  }

  async unsubscribe(key: string, listener: PayloadListener): Promise<void> {
    const sub = this.subs.get(key);
    if (sub === undefined || sub.listener !== listener) return;
    this.subs.delete(key);
    const entry = sub.address === undefined ? undefined : this.clients.get(sub.address);
    if (entry?.client.isReady) await entry.client.sUnsubscribe(key, listener, true);
  }

  close(): void {
    this.closed = true;
    for (const { client } of this.clients.values()) if (client.isOpen) client.destroy();
    this.clients.clear();
    this.subs.clear();
  }

  /** Something may be missing messages: say so once, then repair until every subscription is back. */
  private trouble(): void {
    if (this.closed) return;
    if (this.troubleSince === undefined) {
      this.troubleSince = this.options.events.now();
      this.options.events.onSubscriberLost();
    }
    this.repairing ??= this.repair().finally(() => (this.repairing = undefined));
  }

  private async repair(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      if (attempt > 0) await pause(Math.min(100 * attempt, 1000));
      try {
        await this.options.topology.refresh();
      } catch (e) {
        this.options.events.onError(e instanceof Error ? e : new Error(String(e)), 'subscriber');
        continue;
      }
      if (await this.resubscribe()) break;
    }
    if (this.closed) return;
    const lostAt = this.troubleSince ?? this.options.events.now();
    this.troubleSince = undefined;
    this.options.events.onSubscriberBack(lostAt);
  }

  /** One pass: every subscription on its serving master's ready connection; true when all are. */
  private async resubscribe(): Promise<boolean> {
    const { topology } = this.options;
    const masters = topology.masters();
    // Connections to nodes that serve nothing any more (a failed or demoted master) go.
    for (const [address, { client }] of this.clients) {
      if (masters.has(address)) continue;
      this.clients.delete(address);
      if (client.isOpen) client.destroy();
      for (const sub of this.subs.values()) if (sub.address === address) sub.address = undefined;
    }
    let ok = true;
    await Promise.all([...this.subs].map(async ([key, sub]) => {
      const shard = topology.shardOf(key);
      if (shard === undefined) {
        ok = false;
        return;
      }
      const entry = this.clients.get(shard.address);
      // Still where it was and the connection is up: node-redis re-subscribed it on reconnect.
      if (sub.address === shard.address && entry?.client.isReady === true) return;
      try {
        const client = await this.clientFor(shard);
        if (sub.address !== undefined && sub.address !== shard.address) {
          const old = this.clients.get(sub.address)?.client;
          if (old?.isReady) await old.sUnsubscribe(key, sub.listener, true).catch(() => {});
        }
        sub.address = undefined;
        if (!client.isReady) throw new Error(`${shard.address} is not ready`);
        await bounded(client.sSubscribe(key, sub.listener, true), this.options.timeoutMs, 'SSUBSCRIBE');
        if (this.subs.get(key) === sub) sub.address = shard.address;
      } catch {
        ok = false;
      }
    }));
    return ok;
  }

  /** The connection to a master (made on first use); rejects when it cannot connect in time. */
  private async clientFor(shard: Shard): Promise<RedisClient> {
    let entry = this.clients.get(shard.address);
    if (entry === undefined) {
      const client = createRedisClient({ ...this.options.target, host: shard.host, port: shard.port, database: 0 }, {
        name: `sluice-${this.options.nodeId}-sub`,
        onError: (e) => {
          if (this.clients.get(shard.address)?.client !== client) return;
          this.options.events.onError(e, 'subscriber');
          if (this.usedBy(shard.address)) this.trouble();
        },
      });
      // A master that no longer serves the channel's slot (slot moved, master demoted) drops it.
      client.on('sharded-channel-moved', (channel: string) => {
        const sub = this.subs.get(channel);
        if (sub !== undefined && sub.address === shard.address) sub.address = undefined;
        this.trouble();
      });
      const connected = bounded(client.connect(), this.options.timeoutMs, `connecting to ${shard.address}`);
      entry = { client, connected };
      this.clients.set(shard.address, entry);
      connected.catch(() => {
        if (this.clients.get(shard.address)?.client !== client) return;
        this.clients.delete(shard.address);
        if (client.isOpen) client.destroy();
      });
    }
    return entry.connected;
  }

  private usedBy(address: string): boolean {
    for (const sub of this.subs.values()) if (sub.address === address) return true;
    return false;
  }
}
