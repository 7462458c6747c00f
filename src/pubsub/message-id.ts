/**
 * nchan message ids.
 *
 * Grammar (as nchan's `msgid_to_str` / `nchan_parse_compound_msgid`):
 * - single channel: `"<unix-seconds>:<tag>"`, tag = 0-based sequence within that second;
 * - multiplexed (n ≥ 2 channels, one slot per channel in subscription order):
 *   `"<seconds>:<t1>,<t2>,…"`, `[t]` marks the slot whose channel produced the message,
 *   `-` is a slot with no message in that second.
 *
 * One `seconds` value is shared by all slots. nchan's update rule (`nchan_update_multi_msgid`):
 * a message from a new second replaces the whole id (other slots become `-`); a message from
 * the same second only overwrites its own slot. To resume slot k, nchan's
 * `nchan_extract_from_multi_msgid` reads `t_k`, or for `-` "everything up to the end of the
 * previous second" (`seconds-1 : 32767`); see `slotCursor`.
 *
 * HTTP form: `Last-Modified` = seconds as an HTTP date, `Etag` = the tag part.
 *
 * @example
 *   const id = parseMessageId('1795718477:0,[1],-', 3); // throws BAD_MESSAGE_ID on garbage
 *   formatMessageId(id) === '1795718477:0,[1],-';
 *   toHttpHeaders(id) // { lastModified: 'Thu, ...GMT', etag: '0,[1],-' }
 */
import { PubsubError } from './errors.ts';

export const MAX_SLOTS = 255;
/** A slot with no message yet (`-`). */
export const NO_TAG = -1;
/** nchan's "end of the second" tag used when resuming a `-` slot. */
export const LAST_TAG = 32767;

export interface MessageId {
  /** Unix seconds. */
  readonly time: number;
  /** One tag per slot; `NO_TAG` for `-`. A single-channel id has exactly one tag. */
  readonly tags: readonly number[];
  /** Index of the slot that produced the message, or -1 when none is marked. */
  readonly active: number;
}

/** A single-channel id. */
export function singleId(time: number, tag: number): MessageId {
  return { time, tags: [tag], active: 0 };
}

function bad(text: string, why: string): PubsubError {
  return new PubsubError('BAD_MESSAGE_ID', `bad message id ${JSON.stringify(text.slice(0, 80))}: ${why}`);
}

const TAG_RE = /^(?:\[(?:0|[1-9]\d{0,8})\]|0|[1-9]\d{0,8}|-)$/;

/**
 * Parses the tag part (`Etag` or what follows `:`). `expectedSlots`, when given, must equal
 * the slot count (the number of channels the subscriber asks for).
 */
export function parseTags(text: string, expectedSlots?: number): { tags: number[]; active: number } {
  const parts = text.split(',');
  if (parts.length > MAX_SLOTS) throw bad(text, `more than ${MAX_SLOTS} slots`);
  if (expectedSlots !== undefined && parts.length !== expectedSlots) {
    throw bad(text, `${parts.length} slot(s) for ${expectedSlots} channel(s)`);
  }
  const tags: number[] = [];
  let active = -1;
  for (const [i, part] of parts.entries()) {
    if (!TAG_RE.test(part)) throw bad(text, `slot ${i} is not a tag`);
    if (part.startsWith('[')) {
      if (active !== -1) throw bad(text, 'more than one active slot');
      active = i;
      tags.push(Number(part.slice(1, -1)));
    } else tags.push(part === '-' ? NO_TAG : Number(part));
  }
  if (tags.length === 1) {
    if (tags[0] === NO_TAG) throw bad(text, 'a single id needs a tag');
    active = 0;
  }
  return { tags, active };
}

/** Parses `"<seconds>:<tags>"`; throws `PubsubError('BAD_MESSAGE_ID')`. */
export function parseMessageId(text: string, expectedSlots?: number): MessageId {
  const colon = text.indexOf(':');
  if (colon <= 0) throw bad(text, 'expected <seconds>:<tag>');
  const secs = text.slice(0, colon);
  if (!/^(?:0|[1-9]\d{0,11})$/.test(secs)) throw bad(text, 'seconds are not a number');
  return { time: Number(secs), ...parseTags(text.slice(colon + 1), expectedSlots) };
}

/** The tag part, as sent in `Etag`. */
export function formatTags(id: MessageId): string {
  if (id.tags.length === 1) return String(id.tags[0]);
  return id.tags.map((t, i) => (i === id.active ? `[${t}]` : t === NO_TAG ? '-' : String(t))).join(',');
}

export function formatMessageId(id: MessageId): string {
  return `${id.time}:${formatTags(id)}`;
}

/** `Last-Modified` + `Etag` for HTTP subscribers. */
export function toHttpHeaders(id: MessageId): { lastModified: string; etag: string } {
  return { lastModified: new Date(id.time * 1000).toUTCString(), etag: formatTags(id) };
}

/**
 * Reads `If-Modified-Since` + `If-None-Match`. Without an Etag the id is `<seconds>:0`
 * (as nchan), which only fits a single-channel subscriber.
 */
export function fromHttpHeaders(ifModifiedSince: string, ifNoneMatch: string | undefined, expectedSlots?: number): MessageId {
  const ms = Date.parse(ifModifiedSince);
  if (!Number.isFinite(ms) || ms < 0) throw bad(ifModifiedSince, 'If-Modified-Since is not an HTTP date');
  const etag = ifNoneMatch?.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  const time = Math.floor(ms / 1000);
  if (etag === undefined || etag === '') return { time, ...parseTags('0', expectedSlots) };
  return { time, ...parseTags(etag, expectedSlots) };
}

/**
 * Orders ids: by seconds, then slot by slot (`-` lowest). For single-channel ids this is
 * publish order within a channel.
 */
export function compareMessageIds(a: MessageId, b: MessageId): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  const n = Math.max(a.tags.length, b.tags.length);
  for (let i = 0; i < n; i++) {
    const x = a.tags[i] ?? NO_TAG;
    const y = b.tags[i] ?? NO_TAG;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Slot k of a (possibly multiplexed) id as a single-channel resume point (nchan's extract rule). */
export function slotCursor(id: MessageId, slot: number): MessageId {
  const tag = id.tags[slot];
  if (tag === undefined) throw bad(formatMessageId(id), `no slot ${slot}`);
  return tag === NO_TAG ? singleId(id.time - 1, LAST_TAG) : singleId(id.time, tag);
}

/**
 * The multiplexed id a subscriber of `slots` channels sees when channel `slot` produces
 * `messageId` (single), given the previous id it saw (nchan's update rule).
 */
export function nextMultiplexedId(prev: MessageId | undefined, slots: number, slot: number, messageId: MessageId): MessageId {
  const tag = messageId.tags[0] ?? 0;
  // Ids are immutable: a single-channel subscriber shares the engine's id (no allocation per delivery).
  if (slots === 1) return messageId.tags.length === 1 && messageId.active === 0 ? messageId : singleId(messageId.time, tag);
  const tags = prev !== undefined && prev.time === messageId.time && prev.tags.length === slots
    ? [...prev.tags]
    : new Array<number>(slots).fill(NO_TAG);
  tags[slot] = tag;
  return { time: messageId.time, tags, active: slot };
}
