/**
 * The hub's live feeds: one engine subscription per channel that has subscribers on this hub,
 * fanned out to them here. The first subscription to a channel subscribes to the engine, the
 * last one to leave unsubscribes; the ones in between only join a set. Per subscriber that is
 * one set entry, where an engine listener and its unsubscribe function each (closures and their
 * contexts, plus the array holding them) cost about 0.3 KiB of every idle stream.
 *
 * @example
 *   const feeds = new ChannelFeeds(engine);
 *   await feeds.join('chat', member);   // resolves once the channel's feed is live
 *   await feeds.leave('chat', member);  // the last member out unsubscribes from the engine
 */
import type { ChannelEvent, Engine, Unsubscribe } from './engine.ts';

/** What a feed delivers to: a single-channel subscription, or one slot of a multiplexed one. */
export interface FeedMember {
  channelEvent(event: ChannelEvent): void;
}

/** One channel's engine subscription and the members it fans out to. */
class Feed {
  readonly members = new Set<FeedMember>();
  /** Settles once the engine has the subscription (with its unsubscribe), or could not make it. */
  readonly live: Promise<Unsubscribe>;

  constructor(engine: Engine, channel: string) {
    this.live = engine.subscribe(channel, (event) => this.dispatch(event));
  }

  private dispatch(event: ChannelEvent): void {
    // Members leaving meanwhile (ended by this very event) are skipped by the iteration.
    for (const member of this.members) {
      try {
        member.channelEvent(event);
      } catch {
        // A member's failure is its own; the others still get the event.
      }
    }
  }
}

export class ChannelFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly engine: Engine) {}

  /**
   * Adds `member` to the channel's feed, subscribing to the engine if there is none yet;
   * resolves once the feed is live, rejects (as the engine did) when it could not be made. A
   * failed feed is forgotten at once, so the next join tries again.
   */
  async join(channel: string, member: FeedMember): Promise<void> {
    let feed = this.feeds.get(channel);
    if (feed === undefined) {
      const created = new Feed(this.engine, channel);
      this.feeds.set(channel, created);
      created.live.catch(() => {
        if (this.feeds.get(channel) === created) this.feeds.delete(channel);
      });
      feed = created;
    }
    feed.members.add(member);
    await feed.live;
  }

  /**
   * Takes `member` off the channel's feed at once; when it was the last one, resolves once the
   * engine subscription is gone. Safe for a member that never joined or whose feed failed.
   */
  async leave(channel: string, member: FeedMember): Promise<void> {
    const feed = this.feeds.get(channel);
    if (feed === undefined || !feed.members.delete(member) || feed.members.size > 0) return;
    this.feeds.delete(channel);
    const unsubscribe = await feed.live.catch(() => undefined);
    await unsubscribe?.();
  }
}
