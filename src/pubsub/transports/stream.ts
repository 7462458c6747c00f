/**
 * The plumbing shared by the streaming transports (EventSource, chunked, multipart, raw stream):
 * resolve the cursor, subscribe (errors answered before any head is written), write the head and
 * preamble, then frames; backpressure through `deliver` → false and `drain` → `resume()`; the
 * client going away closes the subscription; the subscription ending writes a farewell and ends
 * the response.
 *
 * Messages delivered before the head is out (replay during subscribe) are held and written right
 * after the preamble, in order; the hub queues (and bounds) what comes meanwhile.
 */
import type { Message } from '../engine.ts';
import type { EndReason, Sink, Subscription } from '../hub.ts';
import type { MessageId } from '../message-id.ts';
import { answerError, cursorOrAnswer } from './resume.ts';
import type { SubscriberExchange } from './types.ts';

export type Chunk = string | Buffer;

export interface StreamFormat {
  readonly headers: Record<string, string | string[]>;
  /** Written right after the head (EventSource `: hi`, multipart's first boundary). */
  readonly preamble?: Chunk;
  /** One message's bytes; `undefined` skips it (chunked: zero-length messages). */
  frame(message: Message, id: MessageId): Chunk | undefined;
  /** Last bytes before the response ends for `reason`. */
  farewell?(reason: Exclude<EndReason, 'UNSUBSCRIBED'>): Chunk | undefined;
  /** Called once the stream is open; returns a stop function (EventSource pings). */
  started?(write: (chunk: Chunk) => void): () => void;
}

/**
 * A slow consumer's farewell may never drain: past this many ms after `end()` the connection is
 * destroyed.
 */
export const STUCK_CLIENT_GRACE_MS = 1000;

export async function serveStream(exchange: SubscriberExchange, format: StreamFormat): Promise<void> {
  const { res, hub, channels, options } = exchange;
  const cursor = await cursorOrAnswer(exchange);
  if (cursor === undefined) return;

  let open = false;
  let closed = false;
  let held: Chunk[] = [];
  let endReason: Exclude<EndReason, 'UNSUBSCRIBED'> | undefined;
  let subscription: Subscription | undefined;
  let stop: (() => void) | undefined;
  const done = new Promise<void>((resolve) => res.once('close', resolve));
  res.once('close', () => {
    closed = true;
    stop?.();
    void subscription?.close();
  });

  let waitingDrain = false;
  const onDrain = () => {
    waitingDrain = false;
    subscription?.resume();
  };
  const write = (chunk: Chunk): boolean => {
    if (closed || res.writableEnded) return true;
    const ok = res.write(chunk);
    if (!ok && !waitingDrain) {
      waitingDrain = true;
      res.once('drain', onDrain);
    }
    return ok;
  };

  const finish = (reason: Exclude<EndReason, 'UNSUBSCRIBED'>) => {
    stop?.();
    if (closed || res.writableEnded) return;
    const bye = format.farewell?.(reason);
    res.removeListener('drain', onDrain);
    if (bye !== undefined) res.end(bye);
    else res.end();
    if (res.writableLength > 0) setTimeout(() => res.destroy(), STUCK_CLIENT_GRACE_MS).unref();
  };

  const sink: Sink = {
    deliver(message, id) {
      const chunk = format.frame(message, id);
      if (!open) {
        if (chunk !== undefined) held.push(chunk);
        return false; // taken; the rest waits in the hub until the head is out
      }
      return chunk === undefined ? true : write(chunk);
    },
    end(reason) {
      if (reason === 'UNSUBSCRIBED') return;
      if (open) finish(reason);
      else endReason = reason;
    },
  };

  try {
    subscription = await hub.subscribe(channels, cursor, sink, options.limits);
  } catch (e) {
    await answerError(exchange, e);
    return;
  }
  if (closed) {
    await subscription.close();
    return;
  }
  try {
    await exchange.writeHead(200, format.headers);
  } catch (e) {
    await subscription.close();
    await answerError(exchange, e);
    return;
  }
  if (closed) return;
  if (format.preamble !== undefined) res.write(format.preamble);
  else res.flushHeaders();
  open = true;
  let ok = true;
  for (const chunk of held) ok = write(chunk);
  held = [];
  if (endReason !== undefined) finish(endReason);
  else {
    stop = format.started?.((chunk) => void write(chunk));
    if (ok) subscription.resume();
  }
  await done;
  await subscription.close(); // resolves once the subscriber counts are released
}
