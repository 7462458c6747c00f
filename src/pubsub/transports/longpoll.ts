/**
 * Long-poll (and, through `servePoll`, interval-poll) subscribers, as nchan:
 *
 * - one message per response, with the message's `Content-Type`, `Last-Modified` (the id's
 *   seconds as an HTTP date), `Etag` (the tag part, e.g. `0` or `-,[0],-` when multiplexed) and
 *   `Vary: If-None-Match, If-Modified-Since`; the next request sends them back as
 *   `If-Modified-Since` / `If-None-Match` (resume order: see `resolveCursor`);
 * - nothing newer buffered: long-poll waits for the next message (408 after
 *   `options.subscriberTimeout` seconds when > 0), interval-poll answers `304` at once, repeating
 *   the `Etag` / `Last-Modified` it was asked about;
 * - a deleted channel answers `410` with only `Vary`; expired credentials `401`; revocation
 *   (`hub.revoke`) `403`; the hub shutting down (drain) `503` with `Retry-After: 1` and `Connection: close` (poll again, with
 *   the same `If-*` headers, on another node); on reload: route changed `503` + `Retry-After: 0`,
 *   route removed `404`, plugins now refuse `403` (the next poll gets the real answer);
 * - the subscription ends right after the one message is taken, and when the client goes away.
 *
 * @example
 *   await longpollTransport.serve(exchange);   // 200 + one message, 304/408/410, or nothing (client gone)
 */
import type { Message } from '../engine.ts';
import type { EndReason, Sink, Subscription } from '../hub.ts';
import { toHttpHeaders, type MessageId } from '../message-id.ts';
import { answerError, cursorOrAnswer } from './resume.ts';
import type { SubscriberExchange, Transport } from './types.ts';

/** nchan's `Vary` on every poll answer. */
export const POLL_VARY = 'If-None-Match, If-Modified-Since';

export type PollMode = 'longpoll' | 'intervalpoll';

/** The answer to a poll whose subscription ended while it waited. */
type Outcome =
  | { readonly kind: 'message'; readonly message: Message; readonly id: MessageId }
  | { readonly kind: 'ended'; readonly reason: EndReason }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'nothing-new' }
  | { readonly kind: 'gone' };

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** Serves one poll: long-poll waits for a message, interval-poll answers 304 when there is none. */
export async function servePoll(exchange: SubscriberExchange, mode: PollMode): Promise<void> {
  const { req, res, hub, channels, options } = exchange;
  const cursor = await cursorOrAnswer(exchange);
  if (cursor === undefined) return;

  let settle: (o: Outcome) => void = () => undefined;
  let outcome: Outcome | undefined;
  const settled = new Promise<Outcome>((resolve) => {
    settle = (o) => {
      if (outcome !== undefined) return;
      outcome = o;
      resolve(o);
    };
  });
  const sink: Sink = {
    // Take the first message only; returning false stops the hub until the subscription is closed.
    deliver: (message, id) => {
      settle({ kind: 'message', message, id });
      return false;
    },
    end: (reason) => settle({ kind: 'ended', reason }),
  };
  const onClose = () => settle({ kind: 'gone' });
  res.once('close', onClose);
  if (res.destroyed || req.socket.destroyed) settle({ kind: 'gone' });

  let subscription: Subscription;
  try {
    subscription = await hub.subscribe(channels, cursor, sink, options.limits);
  } catch (e) {
    res.off('close', onClose);
    if (outcome?.kind !== 'gone') await answerError(exchange, e);
    return;
  }

  let timer: NodeJS.Timeout | undefined;
  if (mode === 'intervalpoll') settle({ kind: 'nothing-new' }); // replay already ran: a buffered message won
  else if (options.subscriberTimeout > 0) timer = setTimeout(() => settle({ kind: 'timeout' }), options.subscriberTimeout * 1000);

  const o = await settled;
  clearTimeout(timer);
  res.off('close', onClose);
  const closing = subscription.close(); // exactly one message per poll
  try {
    if (o.kind !== 'gone' && !res.destroyed) await answer(exchange, o);
  } catch {
    res.destroy(); // the client went away while answering
  }
  await closing;
}

async function answer(exchange: SubscriberExchange, o: Exclude<Outcome, { kind: 'gone' }>): Promise<void> {
  const { req, res } = exchange;
  const empty = async (status: number, extra: Record<string, string> = {}) => {
    await exchange.writeHead(status, { ...extra, vary: POLL_VARY, 'content-length': '0' });
    res.end();
  };
  switch (o.kind) {
    case 'message': {
      const { lastModified, etag } = toHttpHeaders(o.id);
      const headers: Record<string, string> = {};
      if (o.message.contentType !== undefined) headers['content-type'] = o.message.contentType;
      headers['last-modified'] = lastModified;
      headers.etag = etag;
      headers.vary = POLL_VARY;
      headers['content-length'] = String(o.message.data.length);
      await exchange.writeHead(200, headers);
      res.end(o.message.data);
      return;
    }
    case 'nothing-new': {
      // As nchan: the 304 repeats the Etag / Last-Modified the client asked about.
      const extra: Record<string, string> = {};
      const etag = header(req.headers['if-none-match']);
      const lastModified = header(req.headers['if-modified-since']);
      if (etag !== undefined) extra.etag = etag;
      if (lastModified !== undefined) extra['last-modified'] = lastModified;
      return empty(304, extra);
    }
    case 'timeout':
      return empty(408);
    case 'ended': {
      const { status, headers } = ENDED_ANSWER[o.reason];
      return empty(status, headers);
    }
  }
}

/** How a waiting poll answers when its subscription ends (UNSUBSCRIBED never reaches it). */
const ENDED_ANSWER: Readonly<Record<EndReason, { readonly status: number; readonly headers?: Record<string, string> }>> = {
  CHANNEL_DELETED: { status: 410 },
  CREDENTIALS_EXPIRED: { status: 401 },
  REVOKED: { status: 403 },
  SLOW_CONSUMER: { status: 503 },
  UNSUBSCRIBED: { status: 503 },
  HUB_CLOSED: { status: 503, headers: { 'retry-after': '1', connection: 'close' } },
  ROUTE_CHANGED: { status: 503, headers: { 'retry-after': '0' } },
  ROUTE_REMOVED: { status: 404 },
  RECHECK_FAILED: { status: 403 },
};

export const longpollTransport: Transport = {
  name: 'longpoll',
  serve: (exchange) => servePoll(exchange, 'longpoll'),
};
