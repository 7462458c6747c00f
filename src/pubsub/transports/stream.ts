/**
 * The plumbing shared by the streaming transports (EventSource, chunked, multipart, raw stream):
 * resolve the cursor, subscribe (errors answered before any head is written), write the head and
 * preamble, then frames; backpressure through `deliver` → false and `drain` → `resume()`; the
 * client going away closes the subscription; the subscription ending writes a farewell and ends
 * the response.
 *
 * Messages delivered before the head is out (replay during subscribe) are held and written right
 * after the preamble, in order; the hub queues (and bounds) what comes meanwhile. Once the head
 * is out, frames go straight to the socket, or to the h2 stream (see wire.ts). A client that
 * does not read fills the socket's buffer (HTTP/1.x) or its h2 stream's flow-control window and
 * then the stream's buffer (HTTP/2): either way `write` returns false, `deliver` tells the hub,
 * and the hub's bounded queue decides when it is a slow consumer.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Cursor, Message } from '../engine.ts';
import type { EndReason, Sink, Subscription } from '../hub.ts';
import type { MessageId } from '../message-id.ts';
import { detachHttpSocket } from './detach.ts';
import { writeNow } from './direct-write.ts';
import type { PingTarget, Pings } from './pings.ts';
import { answerError, cursorOrAnswer } from './resume.ts';
import type { StreamEndListener, SubscriberExchange } from './types.ts';
import { encodeWire, openWire, type Chunk, type FrameCache, type WireMode } from './wire.ts';

export type { Chunk } from './wire.ts';

export interface StreamFormat {
  readonly headers: Record<string, string | string[]>;
  /** Written right after the head (EventSource `: hi`, multipart's first boundary). */
  readonly preamble?: Chunk;
  /** One message's bytes; `undefined` skips it (chunked: zero-length messages). */
  frame(message: Message, id: MessageId): Chunk | undefined;
  /** Last bytes before the response ends for `reason`. */
  farewell?(reason: Exclude<EndReason, 'UNSUBSCRIBED'>): Chunk | undefined;
  /**
   * Set when `frame(message, id)` depends on the message alone for single-channel ids: the wire
   * bytes are then built once per message and shared by every subscriber.
   */
  readonly frameCache?: FrameCache;
  /** Keep-alive pings while the stream is open (EventSource), shared by the format's streams. */
  readonly pings?: Pings;
}

/**
 * A slow consumer's farewell may never drain: past this many ms after `end()` the connection is
 * destroyed.
 */
export const STUCK_CLIENT_GRACE_MS = 1000;

type Farewell = Exclude<EndReason, 'UNSUBSCRIBED'>;

/** A promise chain, not an async function: an open stream should not keep one more suspended frame. */
export function serveStream(exchange: SubscriberExchange, format: StreamFormat): Promise<void> {
  return cursorOrAnswer(exchange).then((cursor) => (cursor === undefined ? undefined : new StreamSubscriber(exchange, format).run(cursor, exchange)));
}

/**
 * One streaming subscriber: the hub's sink. A class rather than closures because there is one per
 * open connection (tens of thousands) and its methods run once per delivery.
 *
 * Once the head is out, an HTTP/1 stream takes its socket over (see detach.ts): everything after
 * goes straight to the socket and the connection closes with the stream. Otherwise (HTTP/2, or
 * Node internals not as expected) pings and the end go through `res` as before.
 */
class StreamSubscriber implements Sink, PingTarget {
  private open = false;
  private closed = false;
  /** Delivered before the head was out (replay during subscribe); made on the first one. */
  private held: { message: Message; id: MessageId }[] | undefined;
  private endReason: Farewell | undefined;
  private subscription: Subscription | undefined;
  /** Where frames go once the head is out (see wire.ts), and how they are framed there; fields, not a `Wire`, to save an object per stream and a hop per delivery. */
  private out: Writable | undefined;
  private mode: WireMode = 'plain';
  /** Set when the socket is the stream's alone (detached from Node's HTTP server): then `out` too. */
  private own: Socket | undefined;
  /**
   * Something went to `own` through its Writable (the head, a ping): a direct write first checks
   * that it is not still queued there (the head stays corked until the next tick).
   */
  private viaWritable = true;
  private waitingDrain = false;
  /** A detached stream's end goes there (see `SubscriberExchange.detached`). */
  private ending: StreamEndListener | undefined;
  /** Otherwise `run` waits for this (the client going away). */
  private closedSignal: (() => void) | undefined;
  private readonly shared: FrameCache | undefined;
  /** Made on the first backpressure only: most idle streams never need it. */
  private onDrain: (() => void) | undefined;
  /**
   * The `close` listener (the response's or, once detached, the socket's). A bound method: an
   * arrow would also keep a context per stream.
   */
  private readonly onClose: () => void = this.clientGone.bind(this);

  /** Dropped once the stream is detached and its end handed over (`exchange.detached`). */
  private exchange: SubscriberExchange | undefined;

  constructor(exchange: SubscriberExchange, private readonly format: StreamFormat) {
    this.exchange = exchange;
    this.shared = exchange.channels.length === 1 ? format.frameCache : undefined;
  }

  async run(cursor: Cursor, exchange: SubscriberExchange): Promise<void> {
    const { res, hub, channels, options } = exchange;
    res.once('close', this.onClose);
    let subscription: Subscription;
    try {
      subscription = await hub.subscribe(channels, cursor, this, options.limits);
    } catch (e) {
      await answerError(exchange, e);
      return;
    }
    this.subscription = subscription;
    if (this.closed) {
      await subscription.close();
      return;
    }
    try {
      await exchange.writeHead(200, this.format.headers);
    } catch (e) {
      await subscription.close();
      await answerError(exchange, e);
      return;
    }
    if (this.closed) return;
    this.start(subscription, exchange);
    const detached = exchange.detached;
    if (this.own !== undefined && detached !== undefined) {
      // The socket is ours: let the request go and hand its end over (no frame waits here).
      this.exchange = undefined;
      this.ending = detached();
      if (this.closed) tellEnded(subscription, this.ending); // gone while the head went out
      return;
    }
    if (!this.closed) await new Promise<void>((resolve) => (this.closedSignal = resolve));
    await subscription.close(); // resolves once the subscriber counts are released
  }

  deliver(message: Message, id: MessageId): boolean {
    if (!this.open) {
      (this.held ??= []).push({ message, id });
      return false; // taken; the rest waits in the hub until the head is out
    }
    return this.send(message, id);
  }

  end(reason: EndReason): void {
    if (reason === 'UNSUBSCRIBED') return;
    if (this.open) this.finish(reason);
    else this.endReason = reason;
  }

  ping(chunk: Chunk): void {
    this.write(chunk);
  }

  /** The client went away. */
  private clientGone(): void {
    this.closed = true;
    this.format.pings?.delete(this);
    const subscription = this.subscription;
    if (subscription === undefined) return;
    if (this.ending !== undefined) tellEnded(subscription, this.ending);
    else void subscription.close();
    this.closedSignal?.();
  }

  /** Head is out: preamble, the held messages, then live delivery. */
  private start(subscription: Subscription, exchange: SubscriberExchange): void {
    const { req, res } = exchange;
    // A HEAD request gets the stream's head and nothing else (Node would hold the head back forever).
    if (req.method === 'HEAD') return void res.end();
    if (this.format.preamble !== undefined) res.write(this.format.preamble);
    else res.flushHeaders();
    const wire = openWire(req, res);
    if (wire !== undefined) {
      this.out = wire.out;
      this.mode = wire.mode;
      this.takeSocket(exchange);
    }
    this.open = true;
    let ok = true;
    const held = this.held ?? [];
    this.held = undefined;
    for (const { message, id } of held) ok = this.send(message, id);
    if (this.endReason !== undefined) return this.finish(this.endReason);
    if (!this.closed) this.format.pings?.add(this); // (the socket may have been gone already)
    if (ok) subscription.resume();
  }

  /** Detaches the socket from Node's HTTP server when it can; the client's going away is then the socket's `close`. */
  private takeSocket(exchange: SubscriberExchange): void {
    const { req, res } = exchange;
    const socket = detachHttpSocket(req, res);
    if (socket === undefined) return;
    this.own = socket;
    res.removeListener('close', this.onClose);
    if (socket.destroyed) return this.onClose();
    // `on`, not `once`: a socket closes once, and `once` costs a wrapper per stream.
    socket.on('close', this.onClose);
    exchange.adoptSocket?.(socket);
  }

  private send(message: Message, id: MessageId): boolean {
    if (this.closed) return true;
    const out = this.out;
    if (out === undefined) {
      const chunk = this.format.frame(message, id);
      return chunk === undefined ? true : this.write(chunk);
    }
    const bytes = this.shared !== undefined
      ? this.shared.wire(message, id, this.mode, this.format)
      : this.encode(message, id);
    if (bytes === null || bytes.length === 0) return true;
    const own = this.own;
    if (own !== undefined) {
      if (!this.waitingDrain) {
        if (this.viaWritable) this.viaWritable = own.writableLength !== 0;
        const now = this.viaWritable ? undefined : writeNow(own, bytes, this);
        if (now !== undefined) return (this.waitingDrain = !now), now;
      }
      this.viaWritable = true; // this frame may wait in the Writable: the next direct write must not overtake it
    }
    return this.pushBack(out.write(bytes), out);
  }

  /** A frame `writeNow` had to queue is out (or failed): as `drain` on the Writable path. */
  writeDone(error?: Error): void {
    this.waitingDrain = false;
    if (error !== undefined) this.own?.destroy(error);
    else this.subscription?.resume();
  }

  private encode(message: Message, id: MessageId): Buffer | null {
    const chunk = this.format.frame(message, id);
    return chunk === undefined ? null : encodeWire(chunk, this.mode);
  }

  /** Pings and the no-socket fallback: to the socket once it is ours, else through `res` (which frames and orders them). */
  private write(chunk: Chunk): boolean {
    const own = this.own;
    if (own !== undefined) {
      if (this.closed || own.writableEnded) return true;
      const bytes = encodeWire(chunk, this.mode);
      if (bytes.length === 0) return true;
      this.viaWritable = true;
      return this.pushBack(own.write(bytes), own);
    }
    const res = this.exchange?.res;
    if (res === undefined || this.closed || res.writableEnded) return true;
    return this.pushBack(res.write(chunk), res);
  }

  private pushBack(ok: boolean, emitter: NodeJS.EventEmitter): boolean {
    if (!ok && !this.waitingDrain) {
      this.waitingDrain = true;
      this.onDrain ??= () => {
        this.waitingDrain = false;
        this.subscription?.resume();
      };
      emitter.once('drain', this.onDrain);
    }
    return ok;
  }

  private finish(reason: Farewell): void {
    this.format.pings?.delete(this);
    const bye = this.format.farewell?.(reason);
    const own = this.own;
    if (own !== undefined) return this.finishOwn(own, bye);
    const res = this.exchange?.res;
    if (res === undefined || this.closed || res.writableEnded) return;
    if (this.onDrain !== undefined) {
      res.removeListener('drain', this.onDrain);
      this.out?.removeListener('drain', this.onDrain);
    }
    if (bye !== undefined) res.end(bye);
    else res.end();
    if (res.writableLength > 0) setTimeout(() => res.destroy(), STUCK_CLIENT_GRACE_MS).unref();
  }

  /** The farewell and, for a chunked body, its terminator; then the connection closes. */
  private finishOwn(socket: Socket, bye: Chunk | undefined): void {
    const mode = this.mode;
    if (this.closed || socket.writableEnded) return;
    if (this.onDrain !== undefined) socket.removeListener('drain', this.onDrain);
    const last = bye === undefined ? EMPTY : encodeWire(bye, mode);
    socket.end(mode === 'chunked' ? Buffer.concat([last, LAST_CHUNK]) : last);
    if (socket.writableLength > 0 || this.waitingDrain) setTimeout(() => socket.destroy(), STUCK_CLIENT_GRACE_MS).unref();
  }
}

/** Closes the subscription, then tells `ending` (once the subscriber counts are released). */
function tellEnded(subscription: Subscription, ending: StreamEndListener): void {
  const ended = (): void => ending.streamEnded();
  subscription.close().then(ended, ended);
}

const EMPTY = Buffer.alloc(0);
/** The end of a chunked body: the zero-length chunk, no trailers. */
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
