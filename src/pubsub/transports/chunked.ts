/**
 * HTTP chunked subscribers (`TE: chunked`), as nchan: one chunk per message, zero-length
 * messages skipped, no per-message headers; the response ends when the subscription does
 * (deleted channel, slow consumer, hub closing). Resume by reconnecting with `last_event_id`.
 *
 * @example
 *   await chunkedTransport.serve(exchange);
 */
import { serveStream, type StreamFormat } from './stream.ts';
import type { SubscriberExchange, Transport } from './types.ts';
import { FrameCache } from './wire.ts';

const sharedFrames = new FrameCache();

/** One format for every chunked stream (a per-stream one would cost each idle subscriber). */
const format: StreamFormat = {
  headers: { 'transfer-encoding': 'chunked' },
  frame: (message) => (message.data.length === 0 ? undefined : message.data),
  frameCache: sharedFrames,
};

export const chunkedTransport: Transport = {
  name: 'chunked',
  serve(exchange: SubscriberExchange): Promise<void> {
    return serveStream(exchange, format);
  },
};
