/**
 * How the redis engine keeps a message in Redis (one list entry) and announces it (one PUBLISH):
 * written by `lua/publish.lua`, read here. An entry is a header line
 * `<seconds> <tag> <expires_at|0> <published_at> <seq> <ct_len|-1> <ev_len|-1>\n` followed by
 * the content type, the event name and the data bytes, so binary data needs no escaping. A
 * notification is `m` + entry (a message) or `d` (the channel was deleted).
 *
 * @example
 *   const message = decodeEntry('chat', entryBuffer);
 *   const event = decodeNotification('chat', payload); // { type: 'message', message } | { type: 'deleted', channel }
 */
import type { ChannelEvent, ChannelInfo, Message } from '../../engine.ts';
import { singleId } from '../../message-id.ts';
import { num, type ScriptReply } from './scripts.ts';

const NEWLINE = 0x0a;
const HEADER = /^(\d+) (\d+) (\d+) (\d+) (\d+) (-1|\d+) (-1|\d+)$/;

export class CorruptEntryError extends Error {
  override readonly name = 'CorruptEntryError';
}

/** Decodes one buffer entry of `channel`. Throws `CorruptEntryError` on anything malformed. */
export function decodeEntry(channel: string, entry: Buffer, offset = 0): Message {
  const eol = entry.indexOf(NEWLINE, offset);
  const m = eol < 0 ? null : HEADER.exec(entry.toString('latin1', offset, eol));
  if (m === null) throw new CorruptEntryError(`corrupt message entry in channel ${JSON.stringify(channel)}`);
  const [time, tag, expiresAt, publishedAt, seq, ctLen, evLen] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  let at = eol + 1;
  const take = (len: number): string | undefined => {
    if (len < 0) return undefined;
    const s = entry.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  const contentType = take(ctLen);
  const eventName = take(evLen);
  if (at > entry.length) throw new CorruptEntryError(`truncated message entry in channel ${JSON.stringify(channel)}`);
  return {
    channel,
    id: singleId(time, tag),
    data: entry.subarray(at),
    ...(contentType !== undefined ? { contentType } : {}),
    ...(eventName !== undefined ? { eventName } : {}),
    publishedAt,
    seq,
    expiresAt: expiresAt === 0 ? null : expiresAt,
  };
}

/** Decodes a pub/sub notification; undefined for anything unknown (ignored, never fatal). */
export function decodeNotification(channel: string, payload: Buffer): ChannelEvent | undefined {
  const kind = payload[0];
  if (kind === 0x64 /* d */) return { type: 'deleted', channel };
  if (kind !== 0x6d /* m */) return undefined;
  try {
    return { type: 'message', message: decodeEntry(channel, payload, 1) };
  } catch {
    return undefined;
  }
}

/** Channel info as the scripts answer it, from `at`: messages, requested, subscribers, last time (-1 = none), last tag. */
export function infoOf(r: readonly ScriptReply[], at = 0): ChannelInfo {
  const lastTime = num(r[at + 3]);
  return {
    messages: num(r[at]),
    requested: num(r[at + 1]),
    subscribers: num(r[at + 2]),
    lastMessageId: lastTime < 0 ? null : singleId(lastTime, num(r[at + 4])),
  };
}
