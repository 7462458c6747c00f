/**
 * The hub: where transports (sinks) and the engine meet. It applies channel policies,
 * replays buffered messages then delivers live ones exactly once and in order, builds
 * multiplexed ids, bounds each subscriber's queue, and ends subscriptions on delete.
 *
 * @example
 *   const hub = createHub({ engine: createMemoryEngine(), policies: compileChannelPolicies(snapshot.channels) });
 *   const sub = await hub.subscribe(['shared', 'user_1'], { kind: 'oldest' }, sink);
 *   await hub.publish('shared', { data: Buffer.from('hi') });  // sink.deliver(msg, '…:[0],-')
 *   await hub.delete('user_1');                                 // sink.end('CHANNEL_DELETED')
 *   await hub.revoke(consumer.id);                              // 3: its streams end with REVOKED
 */
import { ChannelFeeds } from './channel-feeds.ts';
import type { ChannelInfo, ChannelPage, Cursor, Engine, ListedChannel, PublishInput, PublishResult } from './engine.ts';
import { PubsubError } from './errors.ts';
import { mergeByPublishOrder } from './merge.ts';
import { MAX_SLOTS, slotCursor, type MessageId } from './message-id.ts';
import { compileChannelPolicies, META_PREFIX, storageOf, type ChannelPolicies } from './policies.ts';
import {
  DEFAULT_SUBSCRIBER_LIMITS, SubscriptionState, type DeliveryTotals, type EndReason, type Sink, type SubscriberLimits,
} from './subscription.ts';

export type { EndReason, Sink, SubscriberLimits } from './subscription.ts';
export { RECONNECT_REASONS } from './subscription.ts';

export interface Subscription {
  readonly channels: readonly string[];
  /** The last (multiplexed) id delivered or queued, if any. */
  readonly lastId: MessageId | undefined;
  readonly ended: boolean;
  /**
   * Ends the subscription for `reason` and tells the sink (the transport says goodbye its way);
   * used by the gateway when a reload no longer admits the stream.
   */
  end(reason: Exclude<EndReason, 'UNSUBSCRIBED'>): void;
  /** Messages delivered to the sink so far. */
  readonly delivered: number;
  /** Why it ended (`UNSUBSCRIBED` when the transport closed it); undefined while it runs. */
  readonly endReason: EndReason | undefined;
  /** Call when the sink has drained after `deliver` returned false. */
  resume(): void;
  /** The client went away: stop delivery and release the subscriber counts. */
  close(): Promise<void>;
}

/** nchan_stub_status counters. */
export interface HubCounters {
  readonly published: number;
  readonly stored: number;
  readonly channels: number;
  readonly subscribers: number;
  /** Subscriptions ended with SLOW_CONSUMER since start. */
  readonly slowConsumers: number;
  /** Messages handed to subscribers since start. */
  readonly delivered: number;
  /** Messages discarded from slow consumers' queues when they were closed, since start. */
  readonly dropped: number;
}

export interface HubOptions {
  readonly engine: Engine;
  readonly policies?: ChannelPolicies;
}

export interface Hub {
  /**
   * Subscribes to 1–255 channels. For several channels an `after` cursor must be the
   * multiplexed id with one slot per channel. Rejects with `TOO_MANY_CHANNELS`,
   * `BAD_MESSAGE_ID`, `CHANNEL_NOT_FOUND` (subscribe_existing_only) or `TOO_MANY_SUBSCRIBERS`.
   */
  subscribe(channelIds: readonly string[], cursor: Cursor, sink: Sink, limits?: SubscriberLimits): Promise<Subscription>;
  /** Rejects with `MESSAGE_TOO_LARGE` past the policy's max_message_size. */
  publish(channelId: string, input: PublishInput): Promise<PublishResult>;
  info(channelId: string): Promise<ChannelInfo | null>;
  /** Deletes the channel; its subscriptions (multiplexed ones too) end with CHANNEL_DELETED. */
  delete(channelId: string): Promise<ChannelInfo | null>;
  counters(): Promise<HubCounters>;
  /**
   * One page of the existing channels whose id starts with `prefix`, ascending by id (see
   * `Engine.channels`). `meta/` channels (channel events) are left out unless the prefix itself
   * starts with `meta`. `cursor` is null, then the previous page's `next`.
   */
  channels(prefix: string, cursor: string | null, limit: number): Promise<ChannelPage>;
  /**
   * Ends every open subscription opened by the consumer (`SubscriberLimits.consumer`) with
   * REVOKED; resolves with how many, once their subscriber counts are released.
   */
  revoke(consumerId: string): Promise<number>;
  /** How many subscriptions the consumer has open right now. */
  streamsOf(consumerId: string): number;
  /** Swaps policies (a new snapshot); existing subscriptions keep running. */
  setPolicies(policies: ChannelPolicies): void;
  /**
   * Ends every subscription with HUB_CLOSED; later subscribes reject with `HUB_CLOSED` (503)
   * so a stream that was still being admitted during a drain is answered, not held open.
   * The engine is the caller's to close.
   */
  close(): Promise<void>;
}

class HubImpl implements Hub {
  private readonly engine: Engine;
  private readonly feeds: ChannelFeeds;
  private policies: ChannelPolicies;
  private readonly live = new Set<SubscriptionState>();
  private slowConsumers = 0;
  private readonly totals: DeliveryTotals = { delivered: 0, dropped: 0 };
  private readonly releasing = new Set<Promise<void>>();
  private closed = false;

  constructor(options: HubOptions) {
    this.engine = options.engine;
    this.feeds = new ChannelFeeds(options.engine);
    this.policies = options.policies ?? compileChannelPolicies([]);
  }

  async subscribe(channelIds: readonly string[], cursor: Cursor, sink: Sink, limits = DEFAULT_SUBSCRIBER_LIMITS): Promise<Subscription> {
    if (this.closed) throw new PubsubError('HUB_CLOSED', 'the node is shutting down; reconnect');
    const n = channelIds.length;
    if (n === 0 || n > MAX_SLOTS) throw new PubsubError('TOO_MANY_CHANNELS', `subscribe to 1..${MAX_SLOTS} channels, not ${n}`);
    if (cursor.kind === 'after' && cursor.id.tags.length !== n) {
      throw new PubsubError('BAD_MESSAGE_ID', `message id has ${cursor.id.tags.length} slot(s) for ${n} channel(s)`);
    }
    const cursors: Cursor[] = channelIds.map((_, slot) => (cursor.kind === 'after' ? { kind: 'after', id: slotCursor(cursor.id, slot) } : cursor));
    await this.countSubscribers(channelIds);

    const state = new SubscriptionState(channelIds, sink, limits, this, this.totals);
    this.live.add(state);
    // Live feed first, then fetch: nothing published in between is lost; replay() dedupes.
    const joined = channelIds.map((ch, slot) => this.feeds.join(ch, state.member(slot)));
    try {
      await Promise.all(joined);
      const fetched = await Promise.all(channelIds.map((ch, i) => this.engine.fetch(ch, cursors[i] as Cursor)));
      const floors = cursors.map((c) => (c.kind === 'after' ? c.id : undefined));
      state.replay(mergeByPublishOrder(fetched.map((f) => f.messages)), floors);
    } catch (e) {
      state.end('UNSUBSCRIBED');
      await state.released;
      throw e;
    }
    return state;
  }

  async publish(channelId: string, input: PublishInput): Promise<PublishResult> {
    if (channelId.startsWith(META_PREFIX)) throw new PubsubError('META_CHANNEL', `${META_PREFIX} channels carry channel events; nobody publishes to them`);
    const policy = this.policies.policyFor(channelId);
    if (policy.maxMessageSize > 0 && input.data.length > policy.maxMessageSize) {
      throw new PubsubError('MESSAGE_TOO_LARGE', `message of ${input.data.length} bytes exceeds ${policy.maxMessageSize}`);
    }
    const result = await this.engine.publish(channelId, input, storageOf(policy));
    this.emitEvent('channel_publish', channelId);
    return result;
  }

  info(channelId: string): Promise<ChannelInfo | null> {
    return this.engine.info(channelId);
  }

  async delete(channelId: string): Promise<ChannelInfo | null> {
    const info = await this.engine.delete(channelId);
    if (info) this.emitEvent('channel_delete', channelId);
    return info;
  }

  /**
   * nchan's channel events (`nchan_channel_events_channel_id`): `<event> <channel id>` published
   * to the policy's meta channel. Fire-and-forget: events never slow or fail the operation.
   */
  private emitEvent(event: ChannelEventName, channelId: string): void {
    const target = this.policies.policyFor(channelId).eventsChannel;
    if (target === undefined || channelId.startsWith(META_PREFIX)) return;
    const policy = this.policies.policyFor(target);
    void this.engine.publish(target, { data: Buffer.from(`${event} ${channelId}`), contentType: 'text/plain' }, storageOf(policy)).catch(() => {});
  }

  async channels(prefix: string, cursor: string | null, limit: number): Promise<ChannelPage> {
    if (prefix.startsWith('meta')) return this.engine.channels(prefix, cursor, limit);
    // Skip meta channels without short pages: ask again for what is missing, from where the
    // engine stopped (they sort together, so this is one or two extra calls).
    const out: ListedChannel[] = [];
    let next = cursor;
    do {
      const page = await this.engine.channels(prefix, next, limit - out.length);
      for (const c of page.channels) if (!c.id.startsWith(META_PREFIX)) out.push(c);
      next = page.next;
    } while (next !== null && out.length < limit);
    return { channels: out, next };
  }

  async revoke(consumerId: string): Promise<number> {
    const ending = [...this.live].filter((s) => s.limits.consumer === consumerId);
    for (const s of ending) s.end('REVOKED');
    await Promise.all([...this.releasing]);
    return ending.length;
  }

  streamsOf(consumerId: string): number {
    let n = 0;
    for (const s of this.live) if (s.limits.consumer === consumerId) n++;
    return n;
  }

  async counters(): Promise<HubCounters> {
    return { ...(await this.engine.stats()), slowConsumers: this.slowConsumers, delivered: this.totals.delivered, dropped: this.totals.dropped };
  }

  setPolicies(policies: ChannelPolicies): void {
    this.policies = policies;
  }

  async close(): Promise<void> {
    this.closed = true;
    const ending = [...this.live];
    for (const s of ending) s.end('HUB_CLOSED');
    await Promise.all([...this.releasing]);
  }

  /** Adds one subscriber per channel, all or none. */
  private async countSubscribers(channelIds: readonly string[]): Promise<void> {
    const added: string[] = [];
    try {
      for (const ch of channelIds) {
        const policy = this.policies.policyFor(ch);
        const r = await this.engine.addSubscriber(ch, {
          storage: storageOf(policy),
          existingOnly: policy.subscribeExistingOnly,
          maxSubscribers: policy.maxSubscribers,
        });
        if (!r.ok) throw new PubsubError(r.reason, `${r.reason === 'CHANNEL_NOT_FOUND' ? 'no such channel' : 'too many subscribers on'} ${ch}`);
        added.push(ch);
        this.emitEvent('subscriber_enqueue', ch);
      }
    } catch (e) {
      await Promise.all(added.map((ch) => this.engine.removeSubscriber(ch)));
      throw e;
    }
  }

  /** A subscription ended (see SubscriptionOwner): its feeds and counts are released. */
  subscriptionEnded(state: SubscriptionState, reason: EndReason): void {
    this.live.delete(state);
    if (reason === 'SLOW_CONSUMER') this.slowConsumers++;
    // Off its feeds at once (no event reaches it any more); the engine is told after.
    const left = state.channels.map((ch, slot) => this.feeds.leave(ch, state.member(slot)));
    const p = this.release(state.channels, left);
    state.released = p;
    this.releasing.add(p);
    void p.finally(() => this.releasing.delete(p));
  }

  private async release(channelIds: readonly string[], left: readonly Promise<void>[]): Promise<void> {
    await Promise.allSettled(left);
    await Promise.allSettled(channelIds.map((ch) => this.engine.removeSubscriber(ch)));
    for (const ch of channelIds) this.emitEvent('subscriber_dequeue', ch);
  }
}

/** nchan's channel event names. */
type ChannelEventName = 'subscriber_enqueue' | 'subscriber_dequeue' | 'channel_publish' | 'channel_delete';

export function createHub(options: HubOptions): Hub {
  return new HubImpl(options);
}
