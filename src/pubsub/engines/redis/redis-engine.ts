/**
 * The `redis` engine: many gateway nodes share channels, buffers and subscriber counts through
 * one Redis or one Redis Cluster (`redis+cluster://`). Every operation is one atomic Lua script
 * (`./lua/`) that touches one hash slot; live delivery is a PUBLISH (SPUBLISH on a cluster) per
 * message on the channel's notify key, which a node subscribes to only while it has local
 * listeners (`feeds.ts`). Subscriber counts are per node and only count while the node's lease
 * on them lives (`presence.ts`). While Redis is unreachable, or does not answer within
 * `commandTimeoutMs`, every call rejects with `ENGINE_UNAVAILABLE` (the publisher answers 503);
 * open subscriptions stay and catch up when Redis is back.
 *
 * @example
 *   const engine = createRedisEngine({ url: 'redis://127.0.0.1:6379/0', namespace: 'sluice:' });
 *   await engine.ready();
 *   const hub = createHub({ engine });
 */
import { randomUUID } from 'node:crypto';
import { ErrorReply } from 'redis';
import type {
  AddSubscriberOptions, AddSubscriberResult, ChannelInfo, ChannelListener, ChannelStorage, Cursor, Engine,
  ChannelPage, EngineClock, EngineStats, ListedChannel, FetchResult, Message, PublishInput, PublishResult, Unsubscribe,
} from '../../engine.ts';
import { PubsubError } from '../../errors.ts';
import { singleId } from '../../message-id.ts';
import { parseRedisUrl, type RedisTarget } from '../../../redis/url.ts';
import { ClusterConnection } from './cluster-connection.ts';
import { decodeEntry, infoOf } from './codec.ts';
import { EngineConnection } from './connection.ts';
import { Feeds } from './feeds.ts';
import { channelKeys, clusterIndexPatterns, DEFAULT_NAMESPACE, indexKeys, publishedKeyOf, type ChannelKeys, type IndexKeys } from './keys.ts';
import type { EngineLinks } from './link.ts';
import { Presence } from './presence.ts';
import { Heartbeat } from './heartbeat.ts';
import { list, num, runScript, type ScriptName, type ScriptReply } from './scripts.ts';

export interface RedisEngineOptions extends EngineClock {
  /** `redis[s]://[user:password@]host[:port][/db]` or `redis[s]+cluster://host:port,…`; or give `target`. */
  readonly url?: string;
  readonly target?: RedisTarget;
  /** Prefix of every key (default `sluice:`); nodes sharing channels use the same one. */
  readonly namespace?: string;
  /** This node's id in the subscriber counts (default: a random UUID). */
  readonly nodeId?: string;
  /** How long a silent node keeps being counted (default 15000 ms). */
  readonly leaseMs?: number;
  /** How often the lease is renewed (default leaseMs / 3). */
  readonly heartbeatMs?: number;
  /** Longest wait for any one Redis call before it fails as unavailable (default 3000 ms). */
  readonly commandTimeoutMs?: number;
  /**
   * Cluster only: how long a publish waits for a replica of the channel's master to acknowledge
   * the write before answering (default 1000 ms; 0 = do not wait). See `cluster-connection.ts`.
   */
  readonly replicaWaitMs?: number;
  /** Connection trouble and failed catch-ups, for the log. */
  readonly onError?: (error: Error, context: string) => void;
}

export interface RedisEngine extends Engine {
  readonly nodeId: string;
  /** Resolves once both Redis connections are up (the engine works without waiting for it). */
  ready(): Promise<void>;
}

/** Channels per `stats` script call (each brings three keys). */
const STATS_BATCH = 300;

/** Redis refusals that mean "not now" rather than "bad call". */
const TRANSIENT_REPLY = /^(NOAUTH|WRONGPASS|LOADING|MASTERDOWN|READONLY|BUSY|CLUSTERDOWN|TRYAGAIN|NOPERM)/;

class RedisEngineImpl implements RedisEngine {
  readonly nodeId: string;
  private readonly ns: string;
  private readonly now: (() => number) | undefined;
  private readonly leaseMs: number;
  private readonly conn: EngineLinks;
  /** Strictly increasing over this node's publishes (the `seq` tie-break, see publish()). */
  private seq = 0;
  private readonly feeds: Feeds;
  private readonly presence = new Presence();
  private readonly heartbeat: Heartbeat;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    const target = options.target ?? parseRedisUrl(options.url ?? 'redis://127.0.0.1:6379');
    this.nodeId = options.nodeId ?? randomUUID();
    this.ns = options.namespace ?? DEFAULT_NAMESPACE;
    this.now = options.now;
    this.leaseMs = options.leaseMs ?? 15_000;
    const clock = this.now ?? Date.now;
    const events = {
      now: clock,
      onCommandReady: () => void this.heartbeat.connected(),
      onSubscriberLost: () => this.feeds.holdLive(),
      onSubscriberBack: (lostAt: number) => void this.feeds.recover(lostAt, () => this.conn.commandReady()),
      onError: (e: Error, which: string) => options.onError?.(e, `redis ${which} connection`),
    };
    const linkOptions = { nodeId: this.nodeId, commandTimeoutMs: options.commandTimeoutMs ?? 3000, replicaWaitMs: options.replicaWaitMs ?? 1000 };
    this.conn = target.cluster !== undefined ? new ClusterConnection(target, events, linkOptions) : new EngineConnection(target, events, linkOptions);
    this.feeds = new Feeds({
      link: this.conn.sub,
      notifyKey: (ch) => channelKeys(this.ns, ch).notify,
      catchUp: async (ch, after) => (await this.fetch(ch, after === undefined ? { kind: 'oldest' } : { kind: 'after', id: after })).messages,
      unavailable: (e) => this.failure(e),
      onRecoverError: (ch, e) => options.onError?.(e instanceof Error ? e : new Error(String(e)), `catching up channel ${ch}`),
    });
    this.heartbeat = new Heartbeat({
      ready: () => this.conn.cmd.isReady,
      everyMs: options.heartbeatMs ?? Math.max(10, Math.floor(this.leaseMs / 3)),
      presence: this.presence,
      // Not through run(): close() releases the counts after the engine is marked closed.
      claim: (channel, count, s) => {
        const k = channelKeys(this.ns, channel);
        return this.call('claim', this.keysOf(k), [
          channel, this.clockArg(), String(this.leaseMs), this.nodeId, String(count), String(s.bufferLength), String(s.messageTimeout), String(s.channelTimeout),
        ]);
      },
      onError: (e, context) => options.onError?.(e, context),
    });
  }

  ready(): Promise<void> {
    return Promise.all([this.conn.ready, this.heartbeat.first]).then(() => undefined);
  }

  async publish(channel: string, input: PublishInput, storage: ChannelStorage): Promise<PublishResult> {
    const k = channelKeys(this.ns, channel);
    const ix = this.index(k);
    // seq only breaks ties between channels' messages of the same millisecond (multiplexed
    // replay): a counter of this node's publishes keeps it strictly increasing for one node
    // without a key shared by every slot; same-millisecond publishes from two nodes have no
    // true order anyway.
    const seq = ++this.seq;
    const r = list(await this.run('publish', [k.meta, k.buf, k.subs, ix.channels, ix.published, k.notify], channel, [
      input.data,
      input.contentType ?? '', input.contentType !== undefined ? '1' : '0',
      input.eventName ?? '', input.eventName !== undefined ? '1' : '0',
      String(storage.bufferLength), String(storage.messageTimeout), String(storage.channelTimeout),
      String(seq), this.conn.cluster ? 'SPUBLISH' : 'PUBLISH',
    ]));
    try {
      await this.conn.cmd.replicated(k.meta);
    } catch (e) {
      throw this.failure(e);
    }
    const id = singleId(num(r[0]), num(r[1]));
    const expiresAt = num(r[4]);
    const message: Message = {
      channel,
      id,
      data: input.data,
      ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
      ...(input.eventName !== undefined ? { eventName: input.eventName } : {}),
      publishedAt: num(r[3]),
      seq: num(r[2]),
      expiresAt: expiresAt === 0 ? null : expiresAt,
    };
    await this.feeds.delivered(channel, id);
    return { message, channel: { messages: num(r[5]), requested: num(r[6]), subscribers: num(r[7]), lastMessageId: id } };
  }

  async fetch(channel: string, cursor: Cursor): Promise<FetchResult> {
    const k = channelKeys(this.ns, channel);
    const args = cursor.kind === 'after'
      ? ['after', String(cursor.id.time), String(cursor.id.tags[0] ?? 0)]
      : cursor.kind === 'nth' ? ['nth', String(cursor.n)] : [cursor.kind];
    const r = list(await this.run('fetch', this.keysOf(k), channel, args));
    if (num(r[0]) === 0) return { messages: [], exists: false };
    return { messages: r.slice(1).map((e) => decodeEntry(channel, e as Buffer)), exists: true };
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<Unsubscribe> {
    this.open();
    return this.feeds.add(channel, listener);
  }

  async info(channel: string): Promise<ChannelInfo | null> {
    const r = await this.run('info', this.keysOf(channelKeys(this.ns, channel)), channel, []);
    return r === null ? null : infoOf(list(r));
  }

  async addSubscriber(channel: string, options: AddSubscriberOptions): Promise<AddSubscriberResult> {
    const k = channelKeys(this.ns, channel);
    const s = options.storage;
    this.open();
    this.presence.beginAdd(channel, s);
    let r: ScriptReply[];
    try {
      r = list(await this.run('add-subscriber', this.keysOf(k), channel, [
        this.nodeId, options.existingOnly === true ? '1' : '0', String(options.maxSubscribers ?? 0),
        String(s.bufferLength), String(s.messageTimeout), String(s.channelTimeout),
      ]));
    } catch (e) {
      this.presence.endAdd(channel, 'failed');
      throw e;
    }
    const verdict = String(r[0]);
    this.presence.endAdd(channel, verdict === 'OK' ? 'ok' : 'refused');
    if (verdict === 'OK') return { ok: true, channel: infoOf(r, 1) };
    return { ok: false, reason: verdict === 'CHANNEL_NOT_FOUND' ? 'CHANNEL_NOT_FOUND' : 'TOO_MANY_SUBSCRIBERS' };
  }

  async removeSubscriber(channel: string): Promise<number> {
    const k = channelKeys(this.ns, channel);
    this.open();
    this.presence.beginRemove(channel);
    try {
      const left = num(await this.run('remove-subscriber', this.keysOf(k), channel, [this.nodeId]));
      this.presence.endRemove(channel, true);
      return left;
    } catch (e) {
      this.presence.endRemove(channel, false);
      throw e;
    }
  }

  async delete(channel: string): Promise<ChannelInfo | null> {
    const k = channelKeys(this.ns, channel);
    const seen = this.feeds.deletions(channel);
    const r = await this.run('delete', [...this.keysOf(k), k.notify], channel, [this.conn.cluster ? 'SPUBLISH' : 'PUBLISH']);
    if (r === null) return null;
    await this.feeds.deleted(channel, seen);
    return infoOf(list(r));
  }

  /**
   * Every index's members (one set; on a cluster one per slot in use, found on each master),
   * filtered and sorted here, then each candidate's info (which also drops channels that have
   * expired). Fine for an operator's listing; not for a hot path.
   */
  async channels(prefix: string, cursor: string | null, limit: number): Promise<ChannelPage> {
    this.open();
    const members: string[] = [];
    try {
      for (const key of await this.indexes()) {
        members.push(...(await this.conn.cmd.send<string[]>(key, ['SMEMBERS', key])));
      }
    } catch (e) {
      throw this.failure(e);
    }
    const ids = members.filter((id) => id.startsWith(prefix) && (cursor === null || id > cursor)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page: ListedChannel[] = [];
    let i = 0;
    for (; i < ids.length && page.length < limit; i++) {
      const id = ids[i] as string;
      const info = await this.info(id);
      if (info !== null) page.push({ id, info });
    }
    let more = false;
    for (let j = i; j < ids.length && !more; j++) more = (await this.info(ids[j] as string)) !== null;
    const last = page[page.length - 1];
    return { channels: page, next: more && last !== undefined ? last.id : null };
  }

  /** Per index (see `channels`): its counter and its channels brought up to date, in batches. */
  async stats(): Promise<EngineStats> {
    this.open();
    const total = { published: 0, stored: 0, channels: 0, subscribers: 0 };
    try {
      for (const index of await this.indexes()) {
        const published = publishedKeyOf(this.ns, index);
        const names = await this.conn.cmd.send<string[]>(index, ['SMEMBERS', index]);
        for (let at = 0; at === 0 || at < names.length; at += STATS_BATCH) {
          const batch = names.slice(at, at + STATS_BATCH);
          const keys = batch.flatMap((name) => {
            const k = channelKeys(this.ns, name);
            return [k.meta, k.buf, k.subs];
          });
          const r = list(await runScript(this.conn.cmd, 'stats', [index, published, ...keys], [this.clockArg(), ...batch]));
          if (at === 0) total.published += num(r[0]);
          total.stored += num(r[1]);
          total.channels += num(r[2]);
          total.subscribers += num(r[3]);
        }
      }
    } catch (e) {
      throw this.failure(e);
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat.stop();
    this.feeds.clear();
    // Stop being counted at once rather than when the leases lapse.
    await this.heartbeat.release(1000);
    this.presence.clear();
    this.conn.close();
  }

  /** The channels index keys: the one set, or on a cluster each slot's set that exists. */
  private async indexes(): Promise<string[]> {
    if (!this.conn.cluster) return [indexKeys(this.ns, channelKeys(this.ns, ''), false).channels];
    return this.conn.cmd.scan(clusterIndexPatterns(this.ns).channels);
  }

  private index(k: ChannelKeys): IndexKeys {
    return indexKeys(this.ns, k, this.conn.cluster);
  }

  /** KEYS of the per-channel scripts: meta, buf, subs, channels index. */
  private keysOf(k: ChannelKeys): string[] {
    return [k.meta, k.buf, k.subs, this.index(k).channels];
  }

  /** Runs a per-channel script: ARGV = channel, now, lease, ...rest. */
  private run(name: ScriptName, keys: readonly string[], channel: string, rest: readonly (string | Buffer)[]): Promise<ScriptReply> {
    this.open();
    return this.call(name, keys, [channel, this.clockArg(), String(this.leaseMs), ...rest]);
  }

  private async call(name: ScriptName, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<ScriptReply> {
    try {
      return await runScript(this.conn.cmd, name, keys, args);
    } catch (e) {
      throw this.failure(e);
    }
  }

  /** The engine clock for a script ('' = Redis's own clock, shared by every node). */
  private clockArg(): string {
    return this.now === undefined ? '' : String(this.now());
  }

  private failure(e: unknown): Error {
    if (this.closed) return new PubsubError('ENGINE_CLOSED', 'the pub/sub engine is closed');
    if (e instanceof ErrorReply && !TRANSIENT_REPLY.test(e.message)) return e;
    this.options.onError?.(e instanceof Error ? e : new Error(String(e)), `redis call to ${this.conn.description}`);
    return new PubsubError('ENGINE_UNAVAILABLE', 'the pub/sub engine (redis) is unavailable; try again shortly');
  }

  private open(): void {
    if (this.closed) throw new PubsubError('ENGINE_CLOSED', 'the pub/sub engine is closed');
  }
}

/** Creates the redis engine; it connects in the background (see `ready()`). */
export function createRedisEngine(options: RedisEngineOptions): RedisEngine {
  return new RedisEngineImpl(options);
}
