/**
 * Which subscriber type answers a request, by nchan's cascade (nchan_subscriber_handler):
 *
 * 1. `Upgrade: websocket` → websocket, or `undefined` (403) when the location does not allow it;
 * 2. `Accept: text/event-stream` → eventsource, if allowed;
 * 3. `Accept: multipart/mixed` → multipart, if allowed;
 * 4. `TE: chunked` (q > 0) → chunked, if allowed;
 * 5. rawstream, only when listed (then it takes every other request);
 * 6. longpoll, if allowed;
 * 7. intervalpoll, if allowed: on a location allowing only interval-poll every non-WebSocket
 *    request is an interval-poll — real nchan answers an EventSource request there with 200 and
 *    the message, not 403 (test/differential/nchan-reference.test.ts, `eventSourceOnPollOnly`);
 * 8. on HTTP/2, chunked if allowed: h2 forbids `TE: chunked` (RFC 9113 §8.2.2), so a route
 *    that allows only chunked would refuse every h2 client; the h2 client gets the same byte
 *    stream an HTTP/1.1 client gets once the chunk framing is removed;
 * 9. otherwise `undefined` (403).
 *
 * A type that is asked for but not allowed falls through to the next rule, as in nchan.
 * Only `req.headers` and `req.httpVersionMajor` are read.
 *
 * @example
 *   selectTransport(req, ['eventsource', 'longpoll'])  // 'eventsource' for Accept: text/event-stream
 */
import type { IncomingMessage } from 'node:http';
import type { TransportName } from './types.ts';

type HeaderValue = string | string[] | undefined;

function text(v: HeaderValue): string {
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

/** True when the comma-separated list names `token` with q > 0 (`type/subtype;q=0.5`). */
export function listHas(value: HeaderValue, token: string): boolean {
  for (const item of text(value).split(',')) {
    const [name, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (name !== token) continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

export function isWebSocketRequest(req: Pick<IncomingMessage, 'headers'>): boolean {
  return text(req.headers.upgrade).split(',').some((s) => s.trim().toLowerCase() === 'websocket');
}

export function selectTransport(req: Pick<IncomingMessage, 'headers'> & Partial<Pick<IncomingMessage, 'httpVersionMajor'>>, allowed: readonly TransportName[]): TransportName | undefined {
  const has = (name: TransportName) => allowed.includes(name);
  if (isWebSocketRequest(req)) return has('websocket') ? 'websocket' : undefined;
  const { accept, te } = req.headers;
  if (has('eventsource') && listHas(accept, 'text/event-stream')) return 'eventsource';
  if (has('multipart') && listHas(accept, 'multipart/mixed')) return 'multipart';
  if (has('chunked') && listHas(te, 'chunked')) return 'chunked';
  if (has('rawstream')) return 'rawstream';
  if (has('longpoll')) return 'longpoll';
  if (has('intervalpoll')) return 'intervalpoll';
  if (has('chunked') && req.httpVersionMajor === 2) return 'chunked';
  return undefined;
}
