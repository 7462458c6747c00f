/**
 * Which master serves each hash slot of a Redis Cluster, and whether it has replicas, read with
 * `CLUSTER SLOTS` from any node that answers. node-redis's cluster client only re-reads its slot
 * map on a MOVED reply, which never comes while a dead master's slots wait for a failover: after
 * a refresh that sees another map, this asks node-redis to rediscover too, so commands follow the
 * promoted replica.
 *
 * @example
 *   const topology = new ClusterTopology(cluster, (e) => log(e));
 *   await topology.refresh();
 *   topology.shardOf('sluice:ch:{chat}:n'); // { address: '10.0.0.2:7001', host, port, replicas: 1 }
 */
import type { RedisClusterType } from 'redis';
import { keySlot, SLOTS } from '../../../redis/slot.ts';
import { bounded } from './link.ts';

export interface Shard {
  /** `host:port` of the master. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Replicas the cluster lists for it (failed ones are not listed). */
  readonly replicas: number;
}

type SlotsReply = [number, number, [Buffer | string, number, ...unknown[]], ...[Buffer | string, number, ...unknown[]][]][];

export class ClusterTopology {
  private slots: (Shard | undefined)[] = new Array<Shard | undefined>(SLOTS);
  private refreshing: Promise<boolean> | undefined;
  /** Bumped by every refresh that changed the map. */
  version = 0;

  constructor(private readonly cluster: RedisClusterType, private readonly timeoutMs: number) {}

  /** The shard serving `key`, if known. */
  shardOf(key: string): Shard | undefined {
    return this.slots[keySlot(key)];
  }

  /** Every master's address. */
  masters(): Set<string> {
    return new Set(this.slots.flatMap((s) => (s === undefined ? [] : [s.address])));
  }

  /** Re-reads the map (one refresh at a time); true when it changed. Rejects when no node answers. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async read(): Promise<boolean> {
    const reply = await this.ask();
    const next = new Array<Shard | undefined>(SLOTS);
    for (const [from, to, master, ...replicas] of reply) {
      const host = String(master[0]);
      const shard: Shard = { address: `${host}:${master[1]}`, host, port: Number(master[1]), replicas: replicas.length };
      for (let slot = from; slot <= to; slot++) next[slot] = shard;
    }
    let changed = false;
    for (let slot = 0; slot < SLOTS && !changed; slot++) {
      const a = this.slots[slot];
      const b = next[slot];
      changed = a?.address !== b?.address || a?.replicas !== b?.replicas;
    }
    this.slots = next;
    if (!changed) return false;
    this.version++;
    await this.followInNodeRedis();
    return true;
  }

  /** CLUSTER SLOTS from some node: node-redis picks one at random, so a dead one is just skipped. */
  private async ask(): Promise<SlotsReply> {
    const tries = Math.max(3, this.cluster.masters.length + this.cluster.replicas.length + 1);
    let last: unknown;
    for (let i = 0; i < tries; i++) {
      try {
        return await bounded(this.cluster.sendCommand<SlotsReply>(undefined, true, ['CLUSTER', 'SLOTS']), this.timeoutMs, 'CLUSTER SLOTS');
      } catch (e) {
        last = e;
      }
    }
    throw last instanceof Error ? last : new Error('no cluster node answers CLUSTER SLOTS');
  }

  /** Makes node-redis re-read its own slot map when it disagrees with ours. */
  private async followInNodeRedis(): Promise<void> {
    const known = this.cluster.slots;
    let differs = false;
    for (let slot = 0; slot < SLOTS && !differs; slot++) differs = known[slot]?.master.address !== this.slots[slot]?.address;
    if (!differs) return;
    const master = this.cluster.masters[0];
    if (master === undefined) return;
    // rediscover() tries the given node first, then every root node.
    const client = await this.cluster.nodeClient(master);
    await this.cluster._slots.rediscover(client);
  }
}
