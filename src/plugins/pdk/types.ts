import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Consumer, Credential, Route, Service } from '../../config/types.ts';
import type { Hub } from '../../pubsub/hub.ts';
import type { StreamEndListener } from '../../pubsub/transports/types.ts';
import type { StreamTracker } from '../../observability/stream-tracker.ts';
import type { UriCaptures } from '../../router/types.ts';
import type { PluginPhase } from '../contract.ts';

/**
 * The context a plugin phase receives, modelled on Kong's PDK (`kong.request`,
 * `kong.response`, `kong.service.request`, `kong.client`, `kong.ctx`, `kong.log`), with
 * camelCase names. Each function may only be used in the phases Kong allows it; calling it
 * elsewhere throws a `PhaseError` (the request answers 500 and the misuse is logged).
 */
export interface Pdk {
  readonly phase: PluginPhase;
  readonly requestId: string;
  readonly request: PdkRequest;
  readonly response: PdkResponse;
  readonly service: { readonly request: PdkServiceRequest };
  readonly client: PdkClient;
  readonly router: PdkRouter;
  readonly ctx: {
    /** Shared by every plugin of this request (Kong's `kong.ctx.shared`). */
    readonly shared: Record<string, unknown>;
    /** Private to this plugin for this request (Kong's `kong.ctx.plugin`). */
    readonly plugin: Record<string, unknown>;
  };
  readonly log: PdkLog;
}

export type HeaderValue = string | readonly string[];

/** The client's request, as received (path normalized). All phases. */
export interface PdkRequest {
  getMethod(): string;
  getScheme(): 'http' | 'https';
  /** Kong's `get_http_version`: 1.0, 1.1 or 2 (HTTP/2 on an `http2` listener). */
  getHttpVersion(): number;
  getHost(): string;
  getPort(): number;
  /** The normalized path: what the router matched and what is forwarded. */
  getPath(): string;
  /** The path as the client sent it; never base an auth decision on it. */
  getRawPath(): string;
  getPathWithQuery(): string;
  getRawQuery(): string;
  /** First value of a query argument. */
  getQueryArg(name: string): string | undefined;
  getQuery(): Readonly<Record<string, string | string[]>>;
  /** First value of a header (name case-insensitive). */
  getHeader(name: string): string | undefined;
  getHeaders(): Readonly<Record<string, string | string[] | undefined>>;
  getUriCaptures(): UriCaptures;
  /** Reads (and keeps) the whole body, honouring `client_max_body_size`. rewrite/access. */
  getRawBody(): Promise<Buffer>;
  /** The body parsed by Content-Type (JSON, urlencoded form); undefined when not parseable. rewrite/access. */
  getBody(): Promise<unknown>;
  /** Milliseconds since the epoch when the request arrived. */
  getStartTime(): number;
}

export type ExitBody = string | Buffer | Readonly<Record<string, unknown>> | readonly unknown[];

/** The response to the client. */
export interface PdkResponse {
  /** Answers the request now; no later access handler, no upstream. rewrite/access. */
  exit(status: number, body?: ExitBody, headers?: Readonly<Record<string, HeaderValue>>): void;
  /** `exit` with Kong's error body `{"message": ..., "request_id": ...}`. rewrite/access. */
  error(status: number, message?: string, headers?: Readonly<Record<string, HeaderValue>>): void;
  /** header_filter, body_filter, log. */
  getStatus(): number;
  /** 'service' (upstream answered), 'exit' (a plugin answered) or 'error'. header_filter, body_filter, log. */
  getSource(): 'service' | 'exit' | 'error';
  getHeader(name: string): string | undefined;
  getHeaders(): Readonly<Record<string, HeaderValue>>;
  /**
   * Hands the request to a terminator that answers it itself once the access phase is over
   * (the pub/sub subscriber and publisher plugins), instead of the proxy. access.
   */
  terminate(terminator: Terminator): void;
  /** rewrite, access, header_filter. */
  setStatus(status: number): void;
  setHeader(name: string, value: HeaderValue): void;
  addHeader(name: string, value: string): void;
  clearHeader(name: string): void;
}

/** What goes upstream. rewrite/access. */
export interface PdkServiceRequest {
  /** The header as it will be sent upstream (the client's, unless a plugin changed it). */
  getHeader(name: string): string | undefined;
  setHeader(name: string, value: HeaderValue): void;
  addHeader(name: string, value: string): void;
  clearHeader(name: string): void;
  setMethod(method: string): void;
  /** Replaces the path sent upstream (after strip_path and the service path). */
  setPath(path: string): void;
  setRawQuery(query: string): void;
  setQuery(query: Readonly<Record<string, string | readonly string[]>>): void;
  setRawBody(body: Buffer | string): void;
  /** JSON-encodes `body` (or urlencodes it for form content types) and sets Content-Type. */
  setBody(body: unknown, contentType?: string): void;
}

export interface PdkClient {
  /** The client address after `trusted_ips` / `real_ip_header`. All phases. */
  getIp(): string;
  /** Alias kept for Kong parity: the same as `getIp()` behind trusted proxies. */
  getForwardedIp(): string;
  getConsumer(): Consumer | undefined;
  getCredential(): Credential | undefined;
  /**
   * Marks the request as authenticated (access). Sets the consumer-scoped plugin lookup and the
   * X-Consumer-* headers sent upstream. `anonymous` sets X-Anonymous-Consumer; `identifier` is
   * what X-Credential-Identifier carries (Kong: the credential id for key-auth, the `key` for
   * jwt, the `username` for basic-auth); it defaults to the credential's id.
   */
  authenticate(consumer: Consumer | undefined, credential: Credential | undefined, options?: { anonymous?: boolean; identifier?: string }): void;
  /** A consumer of the running config by id, or by username when `byUsername` (or as a fallback). */
  loadConsumer(idOrUsername: string, byUsername?: boolean): Consumer | undefined;
}

export interface PdkRouter {
  getRoute(): Route;
  getService(): Service | undefined;
}

export interface PdkLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What a terminator gets: the raw exchange, and a head writer that runs header_filter first. */
export interface TerminatorExchange {
  readonly req: IncomingMessage;
  /** For a WebSocket upgrade, a response bound to the socket (for refusals). */
  readonly res: ServerResponse;
  readonly upgrade?: { readonly socket: Duplex; readonly head: Buffer };
  readonly requestId: string;
  /** Writes the response head after the route's plugins ran header_filter on it. */
  writeHead(status: number, headers: Record<string, string | string[]>): Promise<void>;
  /**
   * Subscribe through the returned hub and the gateway holds the stream: on every reload it
   * re-checks it against the new config (route still there, plugins still let the request in,
   * same `stream`) and ends it with ROUTE_REMOVED / ROUTE_CHANGED / RECHECK_FAILED otherwise.
   *
   * ```ts
   * const hub = exchange.holdStreams(conf.hub, { channels: ids, transport: 'eventsource' });
   * await hub.subscribe(ids, cursor, sink);
   * ```
   */
  holdStreams(hub: Pick<Hub, 'subscribe'>, stream: StreamShape): Pick<Hub, 'subscribe'>;
  /**
   * Metrics and log lines for a subscriber stream (`transport` as nchan names it); absent when
   * metrics and the access log are both off.
   */
  trackStream?(transport: string, channels: readonly string[]): StreamTracker;
  /** A socket a stream took over from the HTTP server: destroyed if a drain outlasts its timeout. */
  adoptSocket?(socket: Duplex): void;
  /**
   * A stream that took its socket over calls this once, then `handle` returns: what is left of
   * the request (log phase, access log, metrics) runs when the stream tells the returned
   * listener it is over, and the request context is not held meanwhile.
   *
   * ```ts
   * const end = exchange.detached?.();
   * return; // handle's promise resolves now; later, once the subscription is closed:
   * end.streamEnded();
   * ```
   */
  detached?(): StreamEndListener;
}

/** What a subscriber stream serves; a reload that changes it asks the client to reconnect. */
export interface StreamShape {
  readonly channels: readonly string[];
  readonly transport: string;
}

/** Answers a request after the plugin chain let it through (instead of the proxy). */
export interface Terminator {
  handle(exchange: TerminatorExchange): Promise<void>;
  /** Set by subscriber terminators: what the stream would serve (compared on re-checks). */
  readonly stream?: StreamShape;
}
