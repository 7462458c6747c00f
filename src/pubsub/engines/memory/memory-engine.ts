/**
 * The embedded, single-process engine. Memory stays bounded: each buffer is capped by
 * `bufferLength`, expired messages are swept (lazily on every access and by an unref'd timer),
 * and empty channels go away after `channelTimeout`.
 *
 * @example
 *   const engine = createMemoryEngine({ now: () => clock.ms, sweepIntervalMs: 0 });
 */
import { PubsubError } from '../../errors.ts';
import type {
  AddSubscriberOptions, AddSubscriberResult, ChannelInfo, ChannelListener, ChannelPage, ChannelStorage, Cursor, Engine,
  EngineClock, EngineStats, FetchResult, ListedChannel, PublishInput, PublishResult, Unsubscribe,
} from '../../engine.ts';
import { ChannelBuffer } from './channel-buffer.ts';

export interface MemoryEngineOptions extends EngineClock {
  /** How often to sweep expired messages and idle channels; 0 = never (tests). Default 1000. */
  readonly sweepIntervalMs?: number;
}

class MemoryEngine implements Engine {
  private readonly now: () => number;
  private readonly buffers = new Map<string, ChannelBuffer>();
  private readonly feeds = new Map<string, Set<ChannelListener>>();
  private readonly timer: NodeJS.Timeout | undefined;
  private published = 0;
  private closed = false;

  constructor(options: MemoryEngineOptions) {
    this.now = options.now ?? Date.now;
    const every = options.sweepIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  async publish(channel: string, input: PublishInput, storage: ChannelStorage): Promise<PublishResult> {
    this.open();
    const now = this.now();
    let buf = this.live(channel, now);
    if (buf === undefined) {
      buf = new ChannelBuffer(channel, storage, now);
      this.buffers.set(channel, buf);
    }
    this.published++;
    const message = buf.append(input, storage, now, this.published);
    const info = buf.info(now);
    this.emit(channel, { type: 'message', message });
    return { message, channel: info };
  }

  async fetch(channel: string, cursor: Cursor): Promise<FetchResult> {
    this.open();
    const buf = this.live(channel, this.now());
    return buf === undefined ? { messages: [], exists: false } : { messages: buf.fetch(cursor), exists: true };
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<Unsubscribe> {
    this.open();
    let set = this.feeds.get(channel);
    if (set === undefined) {
      set = new Set();
      this.feeds.set(channel, set);
    }
    set.add(listener);
    return async () => {
      const s = this.feeds.get(channel);
      if (s === undefined) return;
      s.delete(listener);
      if (s.size === 0) this.feeds.delete(channel);
    };
  }

  async info(channel: string): Promise<ChannelInfo | null> {
    this.open();
    const now = this.now();
    return this.live(channel, now)?.info(now) ?? null;
  }

  async addSubscriber(channel: string, options: AddSubscriberOptions): Promise<AddSubscriberResult> {
    this.open();
    const now = this.now();
    let buf = this.live(channel, now);
    if (buf === undefined) {
      if (options.existingOnly === true) return { ok: false, reason: 'CHANNEL_NOT_FOUND' };
      buf = new ChannelBuffer(channel, options.storage, now);
      this.buffers.set(channel, buf);
    }
    const max = options.maxSubscribers ?? 0;
    if (max > 0 && buf.subscribers >= max) return { ok: false, reason: 'TOO_MANY_SUBSCRIBERS' };
    buf.subscribers++;
    buf.lastRequested = now;
    buf.lastActivity = now;
    return { ok: true, channel: buf.info(now) };
  }

  async removeSubscriber(channel: string): Promise<number> {
    this.open();
    const now = this.now();
    const buf = this.buffers.get(channel);
    if (buf === undefined || buf.subscribers === 0) return 0;
    buf.subscribers--;
    buf.lastActivity = now;
    const left = buf.subscribers;
    this.live(channel, now);
    return left;
  }

  async delete(channel: string): Promise<ChannelInfo | null> {
    this.open();
    const now = this.now();
    const buf = this.live(channel, now);
    if (buf === undefined) return null;
    const info = buf.info(now);
    this.buffers.delete(channel);
    this.emit(channel, { type: 'deleted', channel });
    return info;
  }

  /** The cursor is the last id of the previous page; ids are sorted per call (admin use, not a hot path). */
  async channels(prefix: string, cursor: string | null, limit: number): Promise<ChannelPage> {
    this.open();
    const now = this.now();
    const ids: string[] = [];
    for (const id of this.buffers.keys()) {
      if (id.startsWith(prefix) && (cursor === null || id > cursor)) ids.push(id);
    }
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page: ListedChannel[] = [];
    let i = 0;
    for (; i < ids.length && page.length < limit; i++) {
      const id = ids[i] as string;
      const info = this.live(id, now)?.info(now);
      if (info !== undefined) page.push({ id, info });
    }
    // Something past this page that is still alive? Only then is there a next page.
    const more = ids.slice(i).some((id) => this.live(id, now) !== undefined);
    const last = page[page.length - 1];
    return { channels: page, next: more && last !== undefined ? last.id : null };
  }

  async stats(): Promise<EngineStats> {
    this.open();
    this.sweep();
    let stored = 0;
    let subscribers = 0;
    for (const buf of this.buffers.values()) {
      stored += buf.size;
      subscribers += buf.subscribers;
    }
    return { published: this.published, stored, channels: this.buffers.size, subscribers };
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.closed = true;
    this.buffers.clear();
    this.feeds.clear();
  }

  /** Expires messages everywhere and drops idle channels. */
  sweep(): void {
    const now = this.now();
    for (const name of [...this.buffers.keys()]) this.live(name, now);
  }

  /** The channel after lazy expiry, or undefined if it does not exist (any more). */
  private live(channel: string, now: number): ChannelBuffer | undefined {
    const buf = this.buffers.get(channel);
    if (buf === undefined) return undefined;
    buf.expire(now);
    if (buf.removable(now)) {
      this.buffers.delete(channel);
      return undefined;
    }
    return buf;
  }

  private emit(channel: string, event: Parameters<ChannelListener>[0]): void {
    const set = this.feeds.get(channel);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the publish and the other listeners go on.
      }
    }
  }

  private open(): void {
    if (this.closed) throw new PubsubError('ENGINE_CLOSED', 'the pub/sub engine is closed');
  }
}

/** Creates the memory engine. */
export function createMemoryEngine(options: MemoryEngineOptions = {}): Engine & { sweep(): void } {
  return new MemoryEngine(options);
}
