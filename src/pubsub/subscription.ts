/**
 * One subscriber's delivery state inside the hub: replay/live ordering with dedupe, the
 * multiplexed id, and the bounded queue in front of a sink that can push back.
 */
import type { FeedMember } from './channel-feeds.ts';
import type { ChannelEvent, Message } from './engine.ts';
import type { Subscription } from './hub.ts';
import { compareMessageIds, nextMultiplexedId, type MessageId } from './message-id.ts';

/** Why a subscription ended. */
export type EndReason =
  /** One of its channels was deleted (nchan: 410; the revocation pattern). */
  | 'CHANNEL_DELETED'
  /** Its queue passed `maxQueuedMessages` or `maxQueuedBytes`. */
  | 'SLOW_CONSUMER'
  /** The transport closed it (`subscription.close()`); the sink is not called back. */
  | 'UNSUBSCRIBED'
  /** The hub is shutting down (drain): reconnect, to this node's successor or another one. */
  | 'HUB_CLOSED'
  /** The credentials it was opened with expired (`endsAt`, e.g. the JWT's `exp`). */
  | 'CREDENTIALS_EXPIRED'
  /** An operator closed the streams of its consumer (`hub.revoke`, the Admin API). */
  | 'REVOKED'
  /** A reload removed the stream's route (re-check on reload). */
  | 'ROUTE_REMOVED'
  /**
   * A reload changed the route under the stream: the request now routes elsewhere, or the
   * route streams other channels or transports. Reconnecting gets the new behaviour.
   */
  | 'ROUTE_CHANGED'
  /** A reload made the route's plugins refuse the stream's request (key revoked, acl, ip deny). */
  | 'RECHECK_FAILED';

/** End reasons after which the client should reconnect (to this or another node) at once. */
export const RECONNECT_REASONS: ReadonlySet<EndReason> = new Set(['HUB_CLOSED', 'ROUTE_CHANGED']);

/** What a transport implements. Transports stay HTTP-only, the hub engine-only. */
export interface Sink {
  /**
   * Writes one message. `multiplexedId` is the id to show the client (a plain
   * `<seconds>:<tag>` for one channel). Return false for backpressure: the message is taken,
   * but nothing more is delivered until `subscription.resume()`.
   */
  deliver(message: Message, multiplexedId: MessageId): boolean;
  /** The subscription ended for `reason`; close the client connection accordingly. */
  end(reason: EndReason): void;
}

/** Bounds of a subscriber's live queue; replayed (already buffered) messages do not count. */
export interface SubscriberLimits {
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  /** Epoch ms at which the subscription ends with CREDENTIALS_EXPIRED (auth on open streams). */
  readonly endsAt?: number;
  /** Id of the consumer that opened the stream, if one authenticated: `hub.revoke(id)` ends it. */
  readonly consumer?: string;
}

export const DEFAULT_SUBSCRIBER_LIMITS: SubscriberLimits = { maxQueuedMessages: 1000, maxQueuedBytes: 8 * 1024 * 1024 };

/** Hub-wide totals every subscription adds to (read by `hub.counters()` for metrics). */
export interface DeliveryTotals {
  /** Messages handed to sinks. */
  delivered: number;
  /** Messages discarded from the queue of a subscriber closed as a slow consumer. */
  dropped: number;
}

/** setTimeout's largest delay (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

interface Queued {
  readonly message: Message;
  readonly id: MessageId;
  readonly counted: boolean;
}

/** Internal: created and driven by the hub. */
/** Who releases an ended subscription's feeds and counts: one owner (the hub), no closure per subscription. */
export interface SubscriptionOwner {
  subscriptionEnded(state: SubscriptionState, reason: EndReason): void;
}

/** Shared by every subscription that has nothing to release yet (one promise each would add up). */
const NOTHING_HELD: Promise<void> = Promise.resolve();

/** One channel of a subscription: what its feed delivers to, and the last id passed on from it. */
interface ChannelSlot extends FeedMember {
  highwater: MessageId | undefined;
}

/**
 * Also what `subscribe` hands out (as a {@link Subscription}) and, for a single channel, its own
 * feed member: one object per open stream rather than three.
 */
export class SubscriptionState implements Subscription, ChannelSlot {
  ended = false;
  /** The last id handed to the sink or queued (the client's resume point once delivered). */
  lastId: MessageId | undefined;
  /** Messages handed to the sink so far. */
  delivered = 0;
  /** Why it ended; undefined while it runs. */
  endReason: EndReason | undefined;
  /** Settles once the hub has released what the subscription held (subscriber counts, feeds). */
  released: Promise<void> = NOTHING_HELD;
  /** A single channel's last id passed on (replayed or live): what is not newer is a repeat. */
  highwater: MessageId | undefined;
  /** Each channel's feed member and last id, when there are several (one alone is `this`). */
  private readonly slots: readonly SlotMember[] | undefined;
  private pending: { slot: number; event: ChannelEvent }[] | undefined = [];
  /** Made on the first message that has to wait: most idle streams never queue. */
  private queue: Queued[] | undefined;
  private queuedBytes = 0;
  private queuedCounted = 0;
  private paused = false;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    readonly channels: readonly string[],
    private readonly sink: Sink,
    readonly limits: SubscriberLimits,
    private readonly owner: SubscriptionOwner,
    private readonly totals: DeliveryTotals = { delivered: 0, dropped: 0 },
  ) {
    this.slots = channels.length > 1 ? channels.map((_, slot) => new SlotMember(this, slot)) : undefined;
    if (limits.endsAt !== undefined) this.expireAt(limits.endsAt);
  }

  /**
   * Ends the subscription at `endsAt`. Deferred even when already past, so the hub returns the
   * subscription first; re-armed in steps because timers cannot wait past ~24.8 days.
   */
  private expireAt(endsAt: number): void {
    const delay = Math.min(Math.max(0, endsAt - Date.now()), MAX_TIMER_MS);
    this.expiry = setTimeout(() => (Date.now() >= endsAt ? this.end('CREDENTIALS_EXPIRED') : this.expireAt(endsAt)), delay);
    this.expiry.unref();
  }

  /** What channel `slot`'s feed delivers to. */
  member(slot: number): ChannelSlot {
    return this.slots?.[slot] ?? this;
  }

  /** The feed of a single-channel subscription. */
  channelEvent(event: ChannelEvent): void {
    this.onEvent(0, event);
  }

  /** The transport is done with it: stops delivery; resolves once the subscriber counts are released. */
  async close(): Promise<void> {
    this.end('UNSUBSCRIBED');
    await this.released;
  }

  /** A live event from the engine for channel `slot`; held back while replaying. */
  onEvent(slot: number, event: ChannelEvent): void {
    if (this.ended) return;
    if (this.pending !== undefined) this.pending.push({ slot, event });
    else this.apply(slot, event);
  }

  /** Replays fetched messages (already merged), then the live events held back meanwhile. */
  replay(messages: readonly { slot: number; message: Message }[], floors: readonly (MessageId | undefined)[]): void {
    floors.forEach((f, i) => (this.member(i).highwater = f));
    for (const { slot, message } of messages) this.enqueue(slot, message, false);
    const held = this.pending ?? [];
    this.pending = undefined;
    for (const { slot, event } of held) this.apply(slot, event);
  }

  /** The sink drained: deliver what is queued until it pushes back again. */
  resume(): void {
    this.paused = false;
    const queue = this.queue;
    while (!this.ended && !this.paused && queue !== undefined && queue.length > 0) {
      const q = queue.shift() as Queued;
      if (q.counted) {
        this.queuedCounted--;
        this.queuedBytes -= q.message.data.length;
      }
      this.delivered++;
      this.totals.delivered++;
      this.paused = !this.sink.deliver(q.message, q.id);
    }
  }

  /** Ends once; the sink hears about it unless the transport itself closed. */
  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    if (reason === 'SLOW_CONSUMER') this.totals.dropped += this.queue?.length ?? 0;
    clearTimeout(this.expiry);
    this.queue = undefined;
    this.pending = undefined;
    this.owner.subscriptionEnded(this, reason);
    if (reason !== 'UNSUBSCRIBED') this.sink.end(reason);
  }

  private apply(slot: number, event: ChannelEvent): void {
    if (event.type === 'deleted') this.end('CHANNEL_DELETED');
    else this.enqueue(slot, event.message, true);
  }

  private enqueue(slot: number, message: Message, counted: boolean): void {
    if (this.ended) return;
    const channel = this.member(slot);
    const hw = channel.highwater;
    if (hw !== undefined && compareMessageIds(message.id, hw) <= 0) return; // already seen
    channel.highwater = message.id;
    // (`slots`, not `channels`, for the count: one object fewer to touch per delivery in a fan-out)
    const id = nextMultiplexedId(this.lastId, this.slots === undefined ? 1 : this.slots.length, slot, message.id);
    this.lastId = id;
    if (!this.paused && (this.queue === undefined || this.queue.length === 0)) {
      this.delivered++;
      this.totals.delivered++;
      this.paused = !this.sink.deliver(message, id);
      return;
    }
    (this.queue ??= []).push({ message, id, counted });
    if (!counted) return;
    this.queuedCounted++;
    this.queuedBytes += message.data.length;
    if (this.queuedCounted > this.limits.maxQueuedMessages || this.queuedBytes > this.limits.maxQueuedBytes) {
      this.end('SLOW_CONSUMER');
    }
  }
}

/** One channel of a multiplexed subscription. */
class SlotMember implements ChannelSlot {
  highwater: MessageId | undefined;

  constructor(private readonly state: SubscriptionState, private readonly slot: number) {}

  channelEvent(event: ChannelEvent): void {
    this.state.onEvent(this.slot, event);
  }
}
