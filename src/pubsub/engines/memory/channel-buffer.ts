/**
 * One channel of the memory engine: its message buffer (length cap, oldest-first expiry),
 * id sequence and subscriber bookkeeping. Pure data + clock values passed in; no timers.
 */
import type { ChannelInfo, ChannelStorage, Cursor, Message, PublishInput } from '../../engine.ts';
import { compareMessageIds, singleId, type MessageId } from '../../message-id.ts';

export class ChannelBuffer {
  readonly name: string;
  storage: ChannelStorage;
  subscribers = 0;
  /** Clock ms of the last subscriber request, null = never. */
  lastRequested: number | null = null;
  /** Clock ms of the last thing that kept the channel alive (publish, subscriber, expiry). */
  lastActivity: number;
  private messages: Message[] = [];
  private lastId: MessageId | null = null;

  constructor(name: string, storage: ChannelStorage, now: number) {
    this.name = name;
    this.storage = storage;
    this.lastActivity = now;
  }

  get size(): number {
    return this.messages.length;
  }

  /** Assigns the next id (`seconds:tag`, tag restarting each second, never going backwards). */
  append(input: PublishInput, storage: ChannelStorage, now: number, seq: number): Message {
    this.storage = storage;
    this.expire(now);
    const secs = Math.floor(now / 1000);
    const prev = this.lastId;
    const id = prev !== null && secs <= prev.time ? singleId(prev.time, (prev.tags[0] ?? 0) + 1) : singleId(secs, 0);
    this.lastId = id;
    const message: Message = {
      channel: this.name,
      id,
      data: input.data,
      ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
      ...(input.eventName !== undefined ? { eventName: input.eventName } : {}),
      publishedAt: now,
      seq,
      expiresAt: storage.messageTimeout > 0 ? now + storage.messageTimeout * 1000 : null,
    };
    this.messages.push(message);
    const excess = this.messages.length - Math.max(0, storage.bufferLength);
    if (excess > 0) this.messages.splice(0, excess);
    this.lastActivity = now;
    return message;
  }

  /**
   * Drops expired messages from the head only: an old message holds back a newer one with a
   * shorter TTL, as nchan does.
   */
  expire(now: number): void {
    let n = 0;
    for (const m of this.messages) {
      if (m.expiresAt === null || m.expiresAt > now) break;
      n++;
      this.lastActivity = Math.max(this.lastActivity, m.expiresAt);
    }
    if (n > 0) this.messages.splice(0, n);
  }

  /** True when nothing keeps the channel: no messages, no subscribers, channel_timeout passed. */
  removable(now: number): boolean {
    return this.subscribers === 0 && this.messages.length === 0 && now - this.lastActivity >= this.storage.channelTimeout * 1000;
  }

  fetch(cursor: Cursor): Message[] {
    const all = this.messages;
    switch (cursor.kind) {
      case 'oldest':
        return all.slice();
      case 'newest':
        return [];
      case 'nth':
        if (cursor.n === 0) return [];
        return cursor.n > 0 ? all.slice(cursor.n - 1) : all.slice(Math.max(0, all.length + cursor.n));
      case 'after': {
        let i = all.length;
        while (i > 0 && compareMessageIds((all[i - 1] as Message).id, cursor.id) > 0) i--;
        return all.slice(i);
      }
    }
  }

  info(now: number): ChannelInfo {
    return {
      messages: this.messages.length,
      requested: this.lastRequested === null ? -1 : Math.max(0, Math.floor((now - this.lastRequested) / 1000)),
      subscribers: this.subscribers,
      lastMessageId: this.lastId,
    };
  }
}
