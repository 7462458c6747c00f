import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayError, GATEWAY_ERRORS, errorBody } from '../gateway/errors.ts';
import type { UpstreamRequest } from './types.ts';
import { toGatewayError } from './upstream-errors.ts';
import { tlsConnectOptions, type UpstreamTls } from './upstream-tls.ts';

/** Where and how to open the upstream side of an upgrade. */
export interface UpgradeTarget {
  readonly host: string;
  readonly port: number;
  /** Set for wss/https services: verification, CAs and client certificate, as for plain requests. */
  readonly tls: UpstreamTls | undefined;
  readonly connectTimeoutMs: number;
  /** Time allowed for the upstream to answer the upgrade request (the service's read_timeout). */
  readonly readTimeoutMs: number;
}

/** What the upstream answered: an accepted upgrade, or a plain HTTP response to relay. */
export type UpgradeOutcome =
  | { readonly kind: 'upgraded'; readonly response: IncomingMessage; readonly socket: Duplex; readonly head: Buffer }
  | { readonly kind: 'response'; readonly response: IncomingMessage };

/**
 * Sends the upgrade request to one target. Resolves once the upstream answers; rejects with a
 * GatewayError (timeout → UPSTREAM_TIMEOUT, a refused certificate → UPSTREAM_TLS_VERIFY_FAILED,
 * anything else → UPSTREAM_UNAVAILABLE) when it does not, so the caller can retry another
 * target. Node's http client does the parsing. SNI is the Host header's name, as for requests.
 */
export function openUpstreamUpgrade(request: UpstreamRequest, target: UpgradeTarget, signal?: AbortSignal): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const send = target.tls ? httpsRequest : httpRequest;
    const hostHeader = request.headers.host;
    const servername = typeof hostHeader === 'string' ? hostHeader.replace(/:\d+$/, '') : target.host;
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (error: GatewayError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      req.destroy();
      reject(error);
    };
    const req: ClientRequest = send({
      host: target.host,
      port: target.port,
      method: request.method,
      path: request.pathAndQuery,
      headers: request.headers,
      agent: false,
      setHost: false,
      ...(target.tls !== undefined ? tlsConnectOptions(target.tls) : {}),
      servername: isIP(servername) === 0 ? servername : undefined,
      signal,
    });
    connectTimer = setTimeout(
      () => fail(new GatewayError('UPSTREAM_TIMEOUT', { detail: 'connect timeout' })),
      target.connectTimeoutMs,
    );
    connectTimer.unref();
    req.once('socket', (socket) => {
      const connected = (): void => {
        clearTimeout(connectTimer);
        connectTimer = setTimeout(
          () => fail(new GatewayError('UPSTREAM_TIMEOUT', { detail: 'read timeout' })),
          target.readTimeoutMs,
        );
        connectTimer.unref();
      };
      if (target.tls) socket.once('secureConnect', connected);
      else socket.once('connect', connected);
    });
    req.once('upgrade', (response, socket, head) => {
      if (settled) return socket.destroy();
      settled = true;
      clearTimeout(connectTimer);
      resolve({ kind: 'upgraded', response, socket, head });
    });
    req.once('response', (response) => {
      if (settled) return response.destroy();
      settled = true;
      clearTimeout(connectTimer);
      resolve({ kind: 'response', response });
    });
    req.once('error', (error) => {
      if (signal?.aborted) return fail(signal.reason instanceof GatewayError ? signal.reason : new GatewayError('UPSTREAM_UNAVAILABLE', { cause: error }));
      fail(toGatewayError(error));
    });
    req.end();
  });
}

/** `rawHeaders` pairs → header block lines, minus the names in `skip`. */
function headerLines(rawHeaders: readonly string[], skip?: ReadonlySet<string>): string {
  let out = '';
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (skip?.has(name.toLowerCase())) continue;
    out += `${name}: ${rawHeaders[i + 1]!}\r\n`;
  }
  return out;
}

/** Destroys both sockets once either is done, whichever way it ends. */
function linkTeardown(a: Duplex, b: Duplex): void {
  const teardown = (): void => {
    a.destroy();
    b.destroy();
  };
  a.once('close', teardown);
  b.once('close', teardown);
  a.once('error', teardown);
  b.once('error', teardown);
}

const RESPONSE_FRAMING = new Set(['connection', 'keep-alive', 'transfer-encoding']);

/**
 * Finishes an upgrade on the client's socket: a 101 is relayed head-first and the two sockets
 * are piped both ways (half-closes propagate, then both are torn down); any other answer is
 * relayed as an ordinary response delimited by connection close.
 */
export function relayUpgrade(clientSocket: Duplex, clientHead: Buffer, outcome: UpgradeOutcome): void {
  const { response } = outcome;
  const statusLine = `HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}\r\n`;
  if (outcome.kind === 'response') {
    const head = `${statusLine}${headerLines(response.rawHeaders, RESPONSE_FRAMING)}connection: close\r\n\r\n`;
    clientSocket.write(head);
    response.pipe(clientSocket);
    response.once('error', () => clientSocket.destroy());
    clientSocket.once('close', () => response.destroy());
    return;
  }
  const upstream = outcome.socket;
  if (clientSocket.destroyed) {
    upstream.destroy();
    return;
  }
  clientSocket.write(`${statusLine}${headerLines(response.rawHeaders)}\r\n`);
  if (outcome.head.length > 0) clientSocket.write(outcome.head);
  if (clientHead.length > 0) upstream.write(clientHead);
  setNoDelay(clientSocket);
  setNoDelay(upstream);
  linkTeardown(clientSocket, upstream);
  clientSocket.pipe(upstream);
  upstream.pipe(clientSocket);
}

function setNoDelay(socket: Duplex): void {
  const s = socket as Duplex & { setNoDelay?: (noDelay: boolean) => void; setTimeout?: (ms: number) => void };
  s.setNoDelay?.(true);
  s.setTimeout?.(0);
}

/** Writes a gateway error as a complete HTTP response on a raw (not yet upgraded) socket. */
export function writeUpgradeError(socket: Duplex, error: unknown, requestId?: string): void {
  const code = error instanceof GatewayError ? error.code : 'UPSTREAM_UNAVAILABLE';
  const { status } = GATEWAY_ERRORS[code];
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code, requestId);
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function statusText(status: number): string {
  switch (status) {
    case 502:
      return 'Bad Gateway';
    case 503:
      return 'Service Unavailable';
    case 504:
      return 'Gateway Timeout';
    default:
      return 'Error';
  }
}
