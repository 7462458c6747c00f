/**
 * The node's live feeds: one Redis SUBSCRIBE (SSUBSCRIBE on a cluster) per channel that has local listeners (refcounted:
 * the first listener subscribes, the last one unsubscribes), fanned out in process. Each feed
 * remembers the last message id it passed on, so after the pub/sub link comes back (node-redis
 * resubscribes by itself; on a cluster the link moves subscriptions to the new master) `recover()` reads the channel buffer and replays what was
 * published while the connection was down — once, in order — before any newer live message.
 *
 * @example
 *   const feeds = new Feeds({ link: links.sub, notifyKey: (ch) => keys(ch).notify, catchUp, unavailable });
 *   const stop = await feeds.add('chat', (event) => …); // resolves once Redis confirmed SUBSCRIBE
 *   await stop();
 */
import type { ChannelEvent, ChannelListener, Message, Unsubscribe } from '../../engine.ts';
import { compareMessageIds, type MessageId } from '../../message-id.ts';
import { decodeNotification } from './codec.ts';
import type { PubSubLink } from './link.ts';

interface Feed {
  readonly channel: string;
  readonly key: string;
  readonly listeners: Set<ChannelListener>;
  readonly onPayload: (payload: Buffer) => void;
  ready: Promise<void>;
  lastId: MessageId | undefined;
  /** Live events held back while `recover()` replays the gap. */
  held: ChannelEvent[] | undefined;
  /** `deleted` events heard so far. */
  deletions: number;
  /** Checked after every event (see `until`). */
  readonly waiters: Set<() => void>;
}

export interface FeedsOptions {
  /** The pub/sub side of the engine's links (one connection, or one per cluster master). */
  readonly link: PubSubLink;
  readonly notifyKey: (channel: string) => string;
  /** The channel's buffered messages (oldest first) after `after`, or all of them. */
  readonly catchUp: (channel: string, after: MessageId | undefined) => Promise<readonly Message[]>;
  /** The error to reject with when Redis cannot be reached. */
  readonly unavailable: (cause: unknown) => Error;
  readonly onRecoverError?: (channel: string, error: unknown) => void;
}

/** Longest wait for this node's own notification (see `delivered`). */
const OWN_NOTIFICATION_WAIT_MS = 1000;

/** Catch-up reads tried per feed after a reconnect before giving up (and logging). */
const CATCH_UP_ATTEMPTS = 5;

/** Without a last id, messages published this long before the connection was lost are not replayed. */
const RECOVER_MARGIN_MS = 2000;

export class Feeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly options: FeedsOptions) {}

  get size(): number {
    return this.feeds.size;
  }

  /** Adds a listener; resolves once the channel's Redis subscription is confirmed. */
  async add(channel: string, listener: ChannelListener): Promise<Unsubscribe> {
    const { link } = this.options;
    let feed = this.feeds.get(channel);
    if (feed === undefined) {
      if (!link.isReady) throw this.options.unavailable(new Error('the pub/sub connection is down'));
      const created: Feed = {
        channel,
        key: this.options.notifyKey(channel),
        listeners: new Set(),
        onPayload: (payload) => this.onPayload(created, payload),
        ready: Promise.resolve(),
        lastId: undefined,
        held: undefined,
        deletions: 0,
        waiters: new Set(),
      };
      created.ready = link.subscribe(created.key, created.onPayload);
      this.feeds.set(channel, created);
      feed = created;
    }
    feed.listeners.add(listener);
    try {
      await feed.ready;
    } catch (e) {
      this.forget(feed, listener);
      throw this.options.unavailable(e);
    }
    const subscribed = feed;
    return async () => this.forget(subscribed, listener);
  }

  /**
   * Replays, per feed, what the buffer holds beyond the last id passed on (or, for a feed that
   * has passed nothing on yet, what was published since `lostAt`), then the live events that
   * arrived meanwhile. Call as soon as the pub/sub connection is back: live events are held
   * from then on, while the catch-up waits for `commandsReady` (the other connection may still
   * be reconnecting) and retries a few times.
   */
  async recover(lostAt: number, commandsReady: () => Promise<boolean>): Promise<void> {
    const feeds = [...this.feeds.values()];
    this.holdLive();
    const ready = await commandsReady();
    await Promise.all(feeds.map(async (feed) => {
      const since = feed.lastId;
      try {
        if (!ready) throw new Error('Redis commands are still unavailable');
        const messages = await this.retry(() => this.options.catchUp(feed.channel, since));
        for (const message of messages) {
          if (since === undefined && message.publishedAt < lostAt - RECOVER_MARGIN_MS) continue;
          this.dispatch(feed, { type: 'message', message });
        }
      } catch (e) {
        this.options.onRecoverError?.(feed.channel, e);
      } finally {
        const held = feed.held ?? [];
        feed.held = undefined;
        for (const event of held) this.dispatch(feed, event);
      }
    }));
  }

  /**
   * Holds live events from the moment the pub/sub connection is lost: node-redis re-subscribes
   * before it says `ready`, so a message can arrive live before `recover()` starts; passed on
   * at once, it would move the feed's last id past the gap and the catch-up would skip the gap.
   */
  holdLive(): void {
    for (const feed of this.feeds.values()) feed.held ??= [];
  }

  private async retry<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (e) {
        if (i >= CATCH_UP_ATTEMPTS) throw e;
        await new Promise((resolve) => setTimeout(resolve, 100 * i));
      }
    }
  }

  /**
   * Resolves once this node's listeners of `channel` have heard message `id` (at once when it
   * has none): a publish answers after local subscribers got the message, as with the memory
   * engine. Gives up after a second (the pub/sub connection may be down).
   */
  delivered(channel: string, id: MessageId): Promise<void> {
    return this.until(channel, (f) => f.lastId !== undefined && compareMessageIds(f.lastId, id) >= 0);
  }

  /** How many deletions of `channel` this node heard (pass to `deleted`). */
  deletions(channel: string): number {
    return this.feeds.get(channel)?.deletions ?? 0;
  }

  /** Resolves once this node's listeners heard a deletion beyond `seen` (see `delivered`). */
  deleted(channel: string, seen: number): Promise<void> {
    return this.until(channel, (f) => f.deletions > seen);
  }

  /** Drops every feed (engine close); the connection itself is the caller's to close. */
  clear(): void {
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    for (const feed of feeds) {
      feed.listeners.clear();
      for (const check of [...feed.waiters]) check();
    }
  }

  private onPayload(feed: Feed, payload: Buffer): void {
    const event = decodeNotification(feed.channel, payload);
    if (event === undefined) return;
    if (feed.held !== undefined) feed.held.push(event);
    else this.dispatch(feed, event);
  }

  private dispatch(feed: Feed, event: ChannelEvent): void {
    if (event.type === 'message') {
      // Already passed on (replayed by recover(), then heard live): once is enough.
      if (feed.lastId !== undefined && compareMessageIds(event.message.id, feed.lastId) <= 0) return;
      feed.lastId = event.message.id;
    } else {
      // A channel created again starts its ids afresh.
      feed.lastId = undefined;
      feed.deletions++;
    }
    for (const listener of [...feed.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the other listeners still hear the event.
      }
    }
    for (const check of [...feed.waiters]) check();
  }

  private until(channel: string, done: (feed: Feed) => boolean): Promise<void> {
    const feed = this.feeds.get(channel);
    if (feed === undefined || !this.options.link.isReady || done(feed)) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        feed.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done(feed) || this.feeds.get(channel) !== feed) finish();
      };
      const timer = setTimeout(finish, OWN_NOTIFICATION_WAIT_MS);
      feed.waiters.add(check);
    });
  }

  private forget(feed: Feed, listener: ChannelListener): void {
    feed.listeners.delete(listener);
    if (feed.listeners.size > 0 || this.feeds.get(feed.channel) !== feed) return;
    this.feeds.delete(feed.channel);
    for (const check of [...feed.waiters]) check();
    // Not awaited: while Redis is down the UNSUBSCRIBE waits in node-redis's queue, and a
    // closing subscriber must not wait for Redis to come back.
    this.options.link.unsubscribe(feed.key, feed.onPayload).catch(() => {});
  }
}
