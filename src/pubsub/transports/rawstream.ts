/**
 * http-raw-stream subscribers, as real nchan: `200` with no Content-Type, each message followed
 * by `options.rawStreamSeparator` (default `\n`; empty allowed), the response just ends when the
 * subscription does (no 410 marker on DELETE).
 *
 * @example
 *   await rawstreamTransport.serve(exchange);  // "one\ntwo\n"
 */
import { serveStream } from './stream.ts';
import type { SubscriberExchange, Transport } from './types.ts';

export const rawstreamTransport: Transport = {
  name: 'rawstream',
  serve(exchange: SubscriberExchange): Promise<void> {
    const separator = Buffer.from(exchange.options.rawStreamSeparator);
    return serveStream(exchange, {
      headers: {},
      frame: (message) => Buffer.concat([message.data, separator]),
    });
  },
};
