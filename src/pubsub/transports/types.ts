import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Hub, SubscriberLimits } from '../hub.ts';

/** nchan's subscriber types (`nchan_subscriber` values). */
export const TRANSPORT_NAMES = ['eventsource', 'websocket', 'longpoll', 'intervalpoll', 'chunked', 'multipart', 'rawstream'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** nchan's `nchan_subscriber_first_message`: oldest | newest | N (Nth oldest) | -N (N back). */
export type FirstMessage = 'oldest' | 'newest' | number;

/** How a subscriber route behaves; compiled once from the pubsub-subscriber plugin's config. */
export interface SubscriberOptions {
  readonly firstMessage: FirstMessage;
  /** EventSource: seconds between pings; 0 = off (nchan's default). */
  readonly pingInterval: number;
  /** EventSource `retry:` hint in ms sent when the stream opens; 0 = none. */
  readonly retryMs: number;
  /** Long-poll: seconds before answering 408; 0 = wait forever (nchan's default). */
  readonly subscriberTimeout: number;
  /** WebSocket: seconds between PING frames; 0 = off. */
  readonly websocketPingInterval: number;
  /** Raw stream: what separates messages (nchan's default "\n"). */
  readonly rawStreamSeparator: string;
  readonly limits: SubscriberLimits;
}

/**
 * One subscriber request, handed to a transport after the plugin chain has let it through.
 * Transports speak HTTP/WebSocket only; the hub is their only way to channels.
 */
export interface SubscriberExchange {
  readonly req: IncomingMessage;
  /** The HTTP response; for a WebSocket upgrade it is bound to the socket (for refusals). */
  readonly res: ServerResponse;
  /** Set when the request is a WebSocket upgrade. */
  readonly upgrade?: { readonly socket: Duplex; readonly head: Buffer };
  /** 1–255 channel ids, in subscription order (multiplexed ids follow this order). */
  readonly channels: readonly string[];
  /** Transports only subscribe; the gateway may hand a hub that tracks the stream for reloads. */
  readonly hub: Pick<Hub, 'subscribe'>;
  readonly options: SubscriberOptions;
  readonly requestId: string;
  /**
   * Writes the response head after the route's plugins ran their header_filter (cors,
   * rate-limit headers reach stream responses too). Use it instead of `res.writeHead`.
   */
  writeHead(status: number, headers: Record<string, string | string[]>): Promise<void>;
  /**
   * A socket the transport took over from the HTTP server (a detached stream): the gateway
   * destroys it if a drain outlasts its timeout, as it does for upgraded sockets.
   */
  adoptSocket?(socket: Duplex): void;
  /**
   * Once the socket is the stream's alone: `serve` returns at once and drops the exchange (the
   * gateway then holds no request context for the stream; see TerminatorExchange.detached). The
   * returned listener is told once, when the stream is over and its subscription released.
   */
  detached?(): StreamEndListener;
}

/**
 * Told once that a detached stream is over. An object with a method rather than a promise of the
 * end: an idle stream then holds one small object per layer, not a chain of promises, reactions
 * and closures (≈1 KiB per stream).
 */
export interface StreamEndListener {
  streamEnded(): void;
}

/** A subscriber transport: one file each under `src/pubsub/transports/`. */
export interface Transport {
  readonly name: TransportName;
  /** Serves the subscriber until it goes away or its subscription ends. Never throws for client errors: answers them. */
  serve(exchange: SubscriberExchange): Promise<void>;
}
