/**
 * HTTP chunked subscribers (`TE: chunked`), as nchan: one chunk per message, zero-length
 * messages skipped, no per-message headers; the response ends when the subscription does
 * (deleted channel, slow consumer, hub closing). Resume by reconnecting with `last_event_id`.
 *
 * @example
 *   await chunkedTransport.serve(exchange);
 */
import { serveStream } from './stream.ts';
import type { SubscriberExchange, Transport } from './types.ts';
import { FrameCache } from './wire.ts';

const sharedFrames = new FrameCache();

export const chunkedTransport: Transport = {
  name: 'chunked',
  serve(exchange: SubscriberExchange): Promise<void> {
    return serveStream(exchange, {
      headers: { 'transfer-encoding': 'chunked' },
      frame: (message) => (message.data.length === 0 ? undefined : message.data),
      frameCache: sharedFrames,
    });
  },
};
