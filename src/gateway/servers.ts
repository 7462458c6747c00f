/**
 * One server per listen address, shaped by its flags (`ssl`, `http2`): what every listener has
 * in common (header limits, no whole-request timeout, `clientError` answers, `Expect:
 * 100-continue` checked against the body limit, the worker tag) lives here once.
 *
 * An `ssl` address is served by `node:https` with the TLS options the caller got from
 * `ListenerTls.serverOptions` (SNI callback, default certificate, client-certificate checks).
 *
 * @example
 *   const server = createListenerServer({ host: '0.0.0.0', port: 8000 }, { onRequest, bodyLimit: 0, maxHeaderSize: 16384 });
 *   const secure = createListenerServer({ host: '0.0.0.0', port: 8443, ssl: true }, { ...same, tls: listenerTls.serverOptions('proxy') });
 *   await listen(server, 'proxy', address);
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import type { ListenAddress } from './listeners.ts';
import { writeErrorToSocket } from './respond.ts';

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
}

/** A plain or TLS HTTP/1.1 listener server. */
export type ListenerServer = Server | HttpsServer;

export function createListenerServer(address: ListenAddress, options: ListenerServerOptions): ListenerServer {
  if (address.http2 === true) throw new Error('the http2 listen flag is not supported yet');
  const http: ServerOptions = {
    maxHeaderSize: options.maxHeaderSize,
    // Streams (SSE, long uploads) may legitimately run for hours: no whole-request timeout.
    requestTimeout: 0,
    headersTimeout: 60_000,
    keepAliveTimeout: 60_000,
  };
  let server: ListenerServer;
  if (address.ssl === true) {
    if (options.tls === undefined) throw new Error('an ssl listener needs TLS options');
    server = createHttpsServer({ ...options.tls, ...http }, options.onRequest);
  } else {
    server = createServer(http, options.onRequest);
  }
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
