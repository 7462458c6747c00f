/**
 * EventSource (SSE) subscribers, framed exactly as nchan:
 *
 * - `200`, `Content-Type: text/event-stream; charset=utf-8` (no Etag / Last-Modified / Vary);
 * - the stream opens with the comment `: hi` (plus `retry: <ms>` when `options.retryMs > 0`);
 * - each message: `event: <name>` (from `X-EventSource-Event`) before `id: <id>`, then one
 *   `data: ` line per `\n`-separated line (a `\r` stays in its line), an empty message is
 *   `data: ` with the trailing space; multiplexed ids as nchan (`T:[0],-`);
 * - pings every `options.pingInterval` seconds (0 = off), nchan's default ping event:
 *   `event: ping` + `data: ` (one interval per route's options for all its streams: the first
 *   ping comes at most one interval after the stream opened);
 * - a deleted channel: `:410: 410 Gone`, then the response ends; a slow consumer: the comment
 *   `: SLOW_CONSUMER`, then the end; expired credentials and revocation send an event
 *   (`credentials_expired`, `revoked`) the page can act on;
 * - ends that ask the client to come back (drain, reload) carry a `retry:` hint (the route's
 *   `eventsource_retry`, else {@link RECONNECT_RETRY_MS}): `: HUB_CLOSED` / `: ROUTE_CHANGED`
 *   plus `retry:`; `ROUTE_REMOVED` / `RECHECK_FAILED` add an event the page can act on
 *   (`event: route_removed` / `event: recheck_failed`, data `{"code": ...}`), since the
 *   reconnect will be refused (404, 401/403) and EventSource gives up on those.
 *
 * @example
 *   await eventsourceTransport.serve(exchange);
 */
import type { Message } from '../engine.ts';
import type { EndReason } from '../hub.ts';
import { formatMessageId, type MessageId } from '../message-id.ts';
import { Pings } from './pings.ts';
import { serveStream, type StreamFormat } from './stream.ts';
import type { SubscriberExchange, Transport } from './types.ts';
import { FrameCache } from './wire.ts';

export const EVENTSOURCE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
/** nchan's ping with its defaults (`nchan_eventsource_ping_event ping`, empty data and comment). */
export const EVENTSOURCE_PING = 'event: ping\ndata: \n\n';

const oneLine = (s: string) => s.replace(/[\r\n]/g, ' ');

export function eventsourceFrame(message: Message, id: MessageId): string {
  let out = '';
  if (message.eventName !== undefined && message.eventName !== '') out += `event: ${oneLine(message.eventName)}\n`;
  out += `id: ${formatMessageId(id)}\n`;
  for (const line of message.data.toString('utf8').split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** The `retry:` hint (ms) on ends that ask the client to reconnect, when the route sets none. */
export const RECONNECT_RETRY_MS = 1000;

export function eventsourceFarewell(reason: Exclude<EndReason, 'UNSUBSCRIBED'>, retryMs = 0): string {
  const retry = `retry: ${Math.floor(retryMs > 0 ? retryMs : RECONNECT_RETRY_MS)}\n`;
  switch (reason) {
    case 'CHANNEL_DELETED':
      return ':410: 410 Gone\n\n';
    case 'CREDENTIALS_EXPIRED':
      // An event the page can act on (fetch a fresh token, then reconnect): EventSource would
      // otherwise retry with the expired token and give up on the 401.
      return ': CREDENTIALS_EXPIRED\nevent: credentials_expired\ndata: {"code":"CREDENTIALS_EXPIRED"}\n\n';
    case 'REVOKED':
      // Revoked by an operator: the page should stop (EventSource would reconnect on its own).
      return ': REVOKED\nevent: revoked\ndata: {"code":"REVOKED"}\n\n';
    case 'HUB_CLOSED':
    case 'ROUTE_CHANGED':
      return `: ${reason}\n${retry}\n`;
    case 'ROUTE_REMOVED':
    case 'RECHECK_FAILED':
      return `: ${reason}\n${retry}event: ${reason.toLowerCase()}\ndata: {"code":"${reason}"}\n\n`;
    case 'SLOW_CONSUMER':
      return `: ${reason}\n\n`;
  }
}

export function eventsourcePreamble(retryMs: number): string {
  return retryMs > 0 ? `: hi\nretry: ${Math.floor(retryMs)}\n\n` : ': hi\n\n';
}

/** A message's frame for single-channel subscribers (whose id is the message's): built once per message. */
const sharedFrames = new FrameCache();

/**
 * The format for a route's (retry, ping) options, built once and shared by its streams: a format
 * per stream (its closures, headers and preamble) cost ~0.3 KiB of each idle subscriber.
 */
const formats = new Map<string, StreamFormat>();

function eventsourceFormat(retryMs: number, pingInterval: number): StreamFormat {
  const key = `${retryMs}/${pingInterval}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = {
      headers: { 'content-type': EVENTSOURCE_CONTENT_TYPE },
      preamble: eventsourcePreamble(retryMs),
      frame: eventsourceFrame,
      frameCache: sharedFrames,
      farewell: (reason) => eventsourceFarewell(reason, retryMs),
      pings: pingInterval > 0 ? new Pings(EVENTSOURCE_PING, pingInterval * 1000) : undefined,
    };
    formats.set(key, format);
  }
  return format;
}

export const eventsourceTransport: Transport = {
  name: 'eventsource',
  serve(exchange: SubscriberExchange): Promise<void> {
    const { pingInterval, retryMs } = exchange.options;
    return serveStream(exchange, eventsourceFormat(retryMs, pingInterval));
  },
};
