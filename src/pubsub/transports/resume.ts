/**
 * Where an HTTP/WebSocket subscriber starts, and how a transport answers an error.
 *
 * Resume order (nchan, see nchan-protocol.md §1.3 and test/differential/nchan-reference.test.ts):
 * 1. `If-Modified-Since` + `If-None-Match` (Etag = the tag part; no Etag → `<seconds>:0`);
 * 2. the first non-empty of the `Last-Event-ID` header and `?last_event_id=` (url-encoded or raw);
 * 3. the location's first-message policy (`oldest` | `newest` | N | -N; 0 = newest).
 *
 * What real nchan rejects with 400 vs ignores:
 * - 400: an id with a `:` that does not parse (`:0`, `-1:0`, `T:[[0]]`), a slot count other
 *   than the channel count (`T:0,0` on one channel, `T:0,0,0,0` on three), a multiplexed id
 *   without its `[k]` marker (`T:0,-,0`), an Etag that does not fit (`0,0`, `[[0]]`);
 * - ignored (next source, then the first-message policy): a value with no `:` at all
 *   (`garbage`), and an id of more than 255 slots (nchan answers 200 on a 3-channel location).
 * - `0:0` (time 0) is nchan's "oldest" id: every buffered message.
 * - An `If-Modified-Since` that is not an HTTP date is ignored (not observed on nchan).
 *
 * @example
 *   const cursor = resolveCursor(exchange.req, exchange.channels.length, exchange.options.firstMessage);
 *   // ... catch (e) { await answerError(exchange, e) }
 */
import type { IncomingMessage } from 'node:http';
import type { Cursor } from '../engine.ts';
import { PUBSUB_ERROR_STATUS, PubsubError, isPubsubError } from '../errors.ts';
import { MAX_SLOTS, fromHttpHeaders, parseMessageId, type MessageId } from '../message-id.ts';
import type { FirstMessage, SubscriberExchange } from './types.ts';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function queryLastEventId(req: IncomingMessage): string | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  let value: string | null;
  try {
    value = new URLSearchParams(url.slice(q + 1)).get('last_event_id');
  } catch {
    return undefined;
  }
  return value === null || value.trim() === '' ? undefined : value.trim();
}

/** A multiplexed id must mark the slot that produced it (nchan answers 400 to `T:0,-,0`). */
function checkMarker(id: MessageId, text: string): MessageId {
  if (id.tags.length > 1 && id.active === -1) {
    throw new PubsubError('BAD_MESSAGE_ID', `bad message id ${JSON.stringify(text.slice(0, 80))}: no [k] marker`);
  }
  return id;
}

function afterId(id: MessageId): Cursor {
  return id.time === 0 ? { kind: 'oldest' } : { kind: 'after', id };
}

/** An id from Last-Event-ID / ?last_event_id=; undefined when nchan would ignore it. */
function parseEventId(text: string, channelCount: number): MessageId | undefined {
  if (!text.includes(':')) return undefined;
  if (text.slice(text.indexOf(':') + 1).split(',').length > MAX_SLOTS) return undefined;
  return checkMarker(parseMessageId(text, channelCount), text);
}

export function firstMessageCursor(firstMessage: FirstMessage): Cursor {
  if (firstMessage === 'oldest') return { kind: 'oldest' };
  if (firstMessage === 'newest' || firstMessage === 0) return { kind: 'newest' };
  return { kind: 'nth', n: firstMessage };
}

/** nchan's resume order: If-Modified-Since + If-None-Match, then Last-Event-ID header / ?last_event_id=, then the first-message policy. Throws PubsubError('BAD_MESSAGE_ID') for ids nchan rejects (see the differential test comments for which ones real nchan answers 400 vs ignores). */
export function resolveCursor(req: IncomingMessage, channelCount: number, firstMessage: FirstMessage): Cursor {
  const ims = header(req, 'if-modified-since');
  if (ims !== undefined && Number.isFinite(Date.parse(ims)) && Date.parse(ims) >= 0) {
    const inm = header(req, 'if-none-match');
    const id = fromHttpHeaders(ims, inm, channelCount);
    return afterId(checkMarker(id, inm ?? ims));
  }
  for (const text of [header(req, 'last-event-id'), queryLastEventId(req)]) {
    if (text === undefined) continue;
    const id = parseEventId(text, channelCount);
    if (id !== undefined) return afterId(id);
  }
  return firstMessageCursor(firstMessage);
}

/** Status and JSON body for an error. Unknown errors are 500 without details. */
export function errorAnswer(error: unknown): { status: number; body: { message: string; code: string } } {
  if (isPubsubError(error)) return { status: PUBSUB_ERROR_STATUS[error.code], body: { message: error.message, code: error.code } };
  if (error instanceof Error) {
    const { status, code } = error as Error & { status?: unknown; code?: unknown };
    if (typeof status === 'number' && status >= 400 && status <= 599 && typeof code === 'string') {
      return { status, body: { message: error.message, code } };
    }
  }
  return { status: 500, body: { message: 'internal error', code: 'INTERNAL' } };
}

/** Writes a transport's error answer for a PubsubError / unknown error: 400 BAD_MESSAGE_ID, 403, 404 ..., JSON body `{message, code}`. */
export async function answerError(exchange: SubscriberExchange, error: unknown): Promise<void> {
  const { res } = exchange;
  if (res.headersSent || res.writableEnded || res.destroyed) {
    // Too late for a status: end what was started.
    if (!res.writableEnded && !res.destroyed) res.end();
    return;
  }
  const { status, body } = errorAnswer(error);
  const text = JSON.stringify(body);
  await exchange.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  await new Promise<void>((resolve) => {
    res.once('close', resolve);
    res.end(text, resolve);
  });
}

/**
 * The subscriber's cursor, or undefined after answering the client when its id is malformed:
 * the step every transport starts with.
 */
export async function cursorOrAnswer(exchange: SubscriberExchange): Promise<Cursor | undefined> {
  try {
    return resolveCursor(exchange.req, exchange.channels.length, exchange.options.firstMessage);
  } catch (e) {
    await answerError(exchange, e);
    return undefined;
  }
}
