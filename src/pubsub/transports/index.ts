/**
 * Subscriber transports by nchan subscriber type (`selectTransport` picks the name).
 *
 * @example
 *   const name = selectTransport(req, ['eventsource', 'longpoll']);
 *   if (name === undefined) reply(403); else await TRANSPORTS[name].serve(exchange);
 */
import { chunkedTransport } from './chunked.ts';
import { eventsourceTransport } from './eventsource.ts';
import { intervalpollTransport } from './intervalpoll.ts';
import { longpollTransport } from './longpoll.ts';
import { multipartTransport } from './multipart.ts';
import { rawstreamTransport } from './rawstream.ts';
import type { Transport, TransportName } from './types.ts';
import { websocketTransport } from './websocket.ts';

export const TRANSPORTS: Readonly<Record<TransportName, Transport>> = {
  eventsource: eventsourceTransport,
  chunked: chunkedTransport,
  multipart: multipartTransport,
  rawstream: rawstreamTransport,
  // written alongside (longpoll.ts, intervalpoll.ts, websocket.ts)
  longpoll: longpollTransport,
  intervalpoll: intervalpollTransport,
  websocket: websocketTransport,
};

export { selectTransport } from './select.ts';
export { answerError, resolveCursor } from './resume.ts';
export { TRANSPORT_NAMES } from './types.ts';
export type { FirstMessage, SubscriberExchange, SubscriberOptions, Transport, TransportName } from './types.ts';
