/**
 * Interval-poll subscribers, as nchan: like long-poll (one message per response with
 * `Last-Modified` / `Etag` / `Vary`), but `304 Not Modified` at once when nothing newer is
 * buffered, repeating the `Etag` / `Last-Modified` it was asked about.
 *
 * @example
 *   await intervalpollTransport.serve(exchange); // 200 + the next message, or 304 right away
 */
import { servePoll } from './longpoll.ts';
import type { Transport } from './types.ts';

export const intervalpollTransport: Transport = {
  name: 'intervalpoll',
  serve: (exchange) => servePoll(exchange, 'intervalpoll'),
};
