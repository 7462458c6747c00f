/**
 * The engine contract: where channels, their message buffers and subscriber counts live.
 * Async throughout so a Redis engine can implement it unchanged; engines never touch HTTP.
 * Every engine must pass `test/conformance/engine-conformance.ts`.
 *
 * @example
 *   const { message, channel } = await engine.publish('chat', { data: Buffer.from('hi') }, opts);
 *   const stop = await engine.subscribe('chat', (ev) => { if (ev.type === 'message') … });
 *   const { messages } = await engine.fetch('chat', { kind: 'after', id: message.id });
 *   const page = await engine.channels('chat:', null, 100);   // { channels: [{ id, info }], next }
 */
import type { MessageId } from './message-id.ts';

/** A stored message. `id` is always a single-channel id. */
export interface Message {
  readonly channel: string;
  readonly id: MessageId;
  readonly data: Buffer;
  readonly contentType?: string;
  /** `X-EventSource-Event`: the SSE `event:` line. */
  readonly eventName?: string;
  /** Clock ms at publish: orders messages of different channels (multiplexed replay). */
  readonly publishedAt: number;
  /**
   * Publish sequence, strictly increasing across all channels of one engine: breaks
   * `publishedAt` ties when merging channels (memory: a counter; Redis: a counter per node, so
   * same-millisecond publishes from two nodes are ordered arbitrarily but alike everywhere).
   */
  readonly seq: number;
  /** Clock ms after which the message is gone; `null` = never (message_timeout 0). */
  readonly expiresAt: number | null;
}

export interface PublishInput {
  readonly data: Buffer;
  readonly contentType?: string;
  readonly eventName?: string;
}

/** Per-channel storage settings; they follow the last publish, as in nchan. */
export interface ChannelStorage {
  /** Messages kept (0 = deliver live only, store nothing). */
  readonly bufferLength: number;
  /** Message TTL in seconds; 0 = never expire. */
  readonly messageTimeout: number;
  /** Seconds an empty channel (no messages, no subscribers) lingers before it is removed. */
  readonly channelTimeout: number;
}

/** nchan's channel info (publisher GET / publish response). */
export interface ChannelInfo {
  readonly messages: number;
  /** Seconds since the last subscriber request, -1 if never. */
  readonly requested: number;
  readonly subscribers: number;
  readonly lastMessageId: MessageId | null;
}

export interface PublishResult {
  readonly message: Message;
  /** Info right after the publish (`subscribers > 0` → 201, else 202). */
  readonly channel: ChannelInfo;
}

/**
 * Where a subscriber starts. `after` = strictly after a single-channel id; `oldest` = every
 * buffered message; `newest` = nothing buffered, only what comes next; `nth` = nchan's
 * first-message `N` (n > 0: from the n-th oldest, 1-based) and `-N` (n < 0: the last |n|
 * messages); n = 0 is `newest`.
 */
export type Cursor =
  | { readonly kind: 'after'; readonly id: MessageId }
  | { readonly kind: 'oldest' }
  | { readonly kind: 'newest' }
  | { readonly kind: 'nth'; readonly n: number };

export interface FetchResult {
  /** Oldest first, all strictly after the cursor. */
  readonly messages: readonly Message[];
  readonly exists: boolean;
}

export type ChannelEvent =
  | { readonly type: 'message'; readonly message: Message }
  /** The channel was deleted: close its subscribers with 410. */
  | { readonly type: 'deleted'; readonly channel: string };

export type ChannelListener = (event: ChannelEvent) => void;
export type Unsubscribe = () => Promise<void>;

export interface AddSubscriberOptions {
  readonly storage: ChannelStorage;
  /** nchan_subscribe_existing_channels_only: refuse when the channel does not exist. */
  readonly existingOnly?: boolean;
  /** 0 or absent = unlimited. */
  readonly maxSubscribers?: number;
}

export type AddSubscriberResult =
  | { readonly ok: true; readonly channel: ChannelInfo }
  | { readonly ok: false; readonly reason: 'CHANNEL_NOT_FOUND' | 'TOO_MANY_SUBSCRIBERS' };

/** One entry of a channel listing. */
export interface ListedChannel {
  readonly id: string;
  readonly info: ChannelInfo;
}

/** One page of `Engine.channels`. */
export interface ChannelPage {
  /** Ascending by id (code-unit order; ids are compared as strings). */
  readonly channels: readonly ListedChannel[];
  /** Opaque cursor for the next page; `null` when nothing follows this page. */
  readonly next: string | null;
}

/** Engine-wide counters (nchan_stub_status). */
export interface EngineStats {
  readonly published: number;
  readonly stored: number;
  readonly channels: number;
  readonly subscribers: number;
}

export interface Engine {
  /** Assigns the id, stores (trimming to `bufferLength`, expiring oldest first), notifies. */
  publish(channel: string, input: PublishInput, storage: ChannelStorage): Promise<PublishResult>;
  /** Buffered messages after the cursor (expired ones excluded). */
  fetch(channel: string, cursor: Cursor): Promise<FetchResult>;
  /** Live feed of one channel, in publish order. Creates nothing. */
  subscribe(channel: string, listener: ChannelListener): Promise<Unsubscribe>;
  /** `null` when the channel does not exist. */
  info(channel: string): Promise<ChannelInfo | null>;
  /** Counts a subscriber (and records the request time); creates the channel unless `existingOnly`. */
  addSubscriber(channel: string, options: AddSubscriberOptions): Promise<AddSubscriberResult>;
  /** Uncounts a subscriber; returns the remaining count. */
  removeSubscriber(channel: string): Promise<number>;
  /** Removes the channel and its messages and notifies live listeners; info before deletion, or null. */
  delete(channel: string): Promise<ChannelInfo | null>;
  /**
   * Existing channels whose id starts with `prefix` (`''` = all), ascending by id, at most
   * `limit` (>= 1) per page. `cursor` is `null` for the first page, then the previous page's
   * `next`: an opaque string (memory: the last id listed; Redis: e.g. a ZRANGE BYLEX bound), so
   * a walk never repeats a channel and picks up channels created after the cursor. Channels
   * removed meanwhile (deleted, timed out) are not listed.
   */
  channels(prefix: string, cursor: string | null, limit: number): Promise<ChannelPage>;
  stats(): Promise<EngineStats>;
  /** Stops timers and drops listeners; later calls reject with `ENGINE_CLOSED`. */
  close(): Promise<void>;
}

/** Engines take their clock from here so tests can drive time. */
export interface EngineClock {
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
}
