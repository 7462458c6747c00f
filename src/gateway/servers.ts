/**
 * One server per listen address, shaped by its flags (`ssl`, `http2`): what every listener has
 * in common (header limits, no whole-request timeout, `clientError` answers, `Expect:
 * 100-continue` checked against the body limit, the worker tag) lives here once.
 *
 * - no flag: HTTP/1.1 (`node:http`);
 * - `ssl`: HTTPS/1.1 (`node:https`);
 * - `ssl http2`: TLS with ALPN `h2` and `http/1.1` on one port (Kong's `8443 http2 ssl`);
 *   HTTP/1.1 clients (WebSocket included: RFC 8441 is not offered) keep working;
 * - `http2` alone: cleartext HTTP/2 with prior knowledge (h2c), never offered unless asked for;
 *   an HTTP/1.1 client cannot use that port.
 *
 * `ssl` servers take the TLS options the caller got from `ListenerTls.serverOptions` (SNI
 * callback, default certificate, client-certificate checks).
 *
 * HTTP/2 requests reach `onRequest` as {@link H2Request} / {@link H2Response}: the compat
 * objects with HTTP/1.1's shape (see h2-compat.ts), typed as their HTTP/1.1 counterparts.
 *
 * @example
 *   const server = createListenerServer('proxy', { host: '0.0.0.0', port: 8000 }, { onRequest, bodyLimit: 0, maxHeaderSize: 16384 });
 *   await listen(server, 'proxy', address);
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createSecureServer, createServer as createH2cServer, type Http2SecureServer, type Http2Server, type Http2Session } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { H2Request, H2Response, trackSessionSockets } from './h2-compat.ts';
import { ListenError, type ListenAddress } from './listeners.ts';
import { writeErrorToSocket } from './respond.ts';

type H2cServer = Http2Server<typeof IncomingMessage, typeof ServerResponse, typeof H2Request, typeof H2Response>;
type H2SecureServer = Http2SecureServer<typeof IncomingMessage, typeof ServerResponse, typeof H2Request, typeof H2Response>;

/** Any listener's server: all are `net.Server`s; `http2` ones also hold sessions. */
export type ListenerServer = Server | HttpsServer | H2cServer | H2SecureServer;

/** The servers made for `http2` addresses (their connections are sessions, not HTTP/1 sockets). */
const http2Servers = new WeakSet<ListenerServer>();

/** HTTP/2 limits (settings `http2_*`), the same for every `http2` listener. */
export interface Http2Limits {
  /** Streams one client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); nginx's default 128. */
  readonly maxConcurrentStreams: number;
  /** Largest decoded header list a client may send (SETTINGS_MAX_HEADER_LIST_SIZE), in bytes. */
  readonly maxHeaderListSize: number;
  /** Connections one `http2` listener holds at once (h2 sessions and HTTP/1.1 fallbacks); 0 = no limit. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP2_LIMITS: Http2Limits = { maxConcurrentStreams: 128, maxHeaderListSize: 32 * 1024, maxConnections: 0 };

export interface ListenerServerOptions {
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** Without one, upgrade requests get 400. */
  readonly onUpgrade?: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  /** Largest body the listener accepts (0 = any), for answering `Expect: 100-continue`. */
  readonly bodyLimit: number;
  readonly maxHeaderSize: number;
  /** Sent as `X-Sluice-Worker` on every response (worker processes). */
  readonly workerTag?: string | undefined;
  /** Required for an `ssl` address: from `ListenerTls.serverOptions(listener)`. */
  readonly tls?: TlsOptions | undefined;
  readonly http2?: Http2Limits | undefined;
}

/**
 * The server for `listener`'s `address`. A flag it cannot honour (`ssl` without a certificate)
 * is a ListenError, which `sluice start` prints as one line.
 */
export function createListenerServer(listener: string, address: ListenAddress, options: ListenerServerOptions): ListenerServer {
  if (address.ssl === true && options.tls === undefined) {
    throw new ListenError(listener, address, Object.assign(new Error('an ssl listener needs TLS options'), { code: 'ECONFIG' }));
  }
  if (address.http2 === true) return createHttp2Server(address, options);
  const http: ServerOptions = {
    maxHeaderSize: options.maxHeaderSize,
    // Streams (SSE, long uploads) may legitimately run for hours: no whole-request timeout.
    requestTimeout: 0,
    headersTimeout: 60_000,
    keepAliveTimeout: 60_000,
  };
  const server: ListenerServer = address.ssl === true ? createHttpsServer({ ...options.tls, ...http }, options.onRequest) : createServer(http, options.onRequest);
  addCommonHandlers(server, options);
  return server;
}

/** True for a server whose clients may speak HTTP/2 (it emits `session`). */
export function isHttp2Server(server: ListenerServer): server is H2cServer | H2SecureServer {
  return http2Servers.has(server);
}

function createHttp2Server(address: ListenAddress, options: ListenerServerOptions): H2cServer | H2SecureServer {
  const limits = options.http2 ?? DEFAULT_HTTP2_LIMITS;
  const common = {
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderListSize },
    maxSessionInvalidFrames: 1000,
    // The compat classes with HTTP/1.1's shape; the types Node declares for the options are
    // the plain compat classes, which these extend.
    Http2ServerRequest: H2Request,
    Http2ServerResponse: H2Response,
  };
  const onRequest = options.onRequest as unknown as (req: H2Request, res: H2Response) => void;
  let server: H2cServer | H2SecureServer;
  if (address.ssl === true && options.tls !== undefined) {
    server = createSecureServer({ ...options.tls, ...common, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'], minVersion: options.tls.minVersion ?? 'TLSv1.2' }, onRequest);
    // HTTP/1.1 clients on this port are served by Node's HTTP/1 parser with these limits.
    Object.assign(server, { maxHeaderSize: options.maxHeaderSize, headersTimeout: 60_000, requestTimeout: 0, keepAliveTimeout: 60_000 });
  } else {
    server = createH2cServer(common, onRequest);
  }
  trackSessionSockets(server, address.ssl === true ? 'secureConnection' : 'connection');
  http2Servers.add(server);
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  // A stream that breaks the protocol is reset by Node; a session error (bad preface, TLS
  // failure mid-way) only concerns that client.
  server.on('session', (session: Http2Session) => session.on('error', () => session.destroy()));
  server.on('sessionError', () => {});
  addCommonHandlers(server, options);
  return server;
}

function addCommonHandlers(server: ListenerServer, options: ListenerServerOptions): void {
  const { onRequest, onUpgrade, bodyLimit, workerTag } = options;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    writeErrorToSocket(socket, error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST');
  });
  // `Expect: 100-continue` with a Content-Length over the limit: the 413 goes out without a
  // `100 Continue`, so the client never sends the body (Node would invite it unconditionally).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (!(bodyLimit > 0 && declared > bodyLimit)) res.writeContinue();
    onRequest(req, res);
  });
  if (workerTag !== undefined) server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('x-sluice-worker', workerTag));
  if (onUpgrade) server.on('upgrade', onUpgrade);
  else server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => writeErrorToSocket(socket, 'BAD_REQUEST'));
}
