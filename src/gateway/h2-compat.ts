/**
 * HTTP/2 requests and responses shaped like HTTP/1.1 ones, so the plugin chain, the proxy and
 * the subscriber transports see the same request on both protocols. Node's compatibility
 * layer (`Http2ServerRequest` / `Http2ServerResponse`) is close to `IncomingMessage` /
 * `ServerResponse`; these subclasses close the gaps the gateway would otherwise trip over:
 *
 * - `req.headers` without pseudo-headers (`:method`, `:path`, ...: they are not headers and
 *   must never be forwarded upstream), with `host` taken from `:authority` (RFC 9113 §8.3.1);
 *   `req.method` and `req.url` still read the pseudo-headers.
 * - Connection-specific response headers (`connection`, `keep-alive`, `transfer-encoding`,
 *   `upgrade`, ...; RFC 9113 §8.2.2) dropped instead of throwing
 *   ERR_HTTP2_INVALID_CONNECTION_HEADERS: whatever an upstream, a plugin or a transport sets
 *   for HTTP/1.1 simply does not exist on h2.
 * - `res.destroyed`, which `ServerResponse` has and the compat response lacks.
 *
 * @example
 *   http2.createSecureServer({ allowHTTP1: true, Http2ServerRequest: H2Request, Http2ServerResponse: H2Response }, handler);
 */
import { Http2ServerRequest, Http2ServerResponse, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { Server } from 'node:net';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { Duplex, ReadableOptions } from 'node:stream';

/** Header names an HTTP/2 message must not carry (RFC 9113 §8.2.2; Node's own list). */
export const H2_FORBIDDEN_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]);

const plainHeaders = new WeakMap<Http2ServerRequest, IncomingHttpHeaders>();

/**
 * The compat request with pseudo-headers hidden from `headers` and `host` filled in, and a body
 * that fails when the client resets the stream mid-way: Node's compat request ends cleanly
 * then, and a cut upload would reach the upstream as a complete one.
 */
export class H2Request extends Http2ServerRequest {
  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: ReadableOptions, rawHeaders: readonly string[]) {
    super(stream, headers, options, rawHeaders);
    // A reset stream first ends its readable side, then says 'aborted', then closes (which ends
    // the compat body too): the compat layer's end-of-body on 'end' is held back a turn, so a
    // reset can fail the body first.
    const compatEnd = stream.listeners('end').find((listener) => listener.name === 'onStreamEnd');
    if (compatEnd === undefined) return;
    stream.removeListener('end', compatEnd as (...args: unknown[]) => void);
    let bodyEnded = false;
    stream.once('aborted', () => {
      if (bodyEnded || this.destroyed) return;
      const error = Object.assign(new Error('the client reset the stream before the request body ended'), { code: 'ECONNRESET' });
      // Nobody reading the body (a GET being streamed to): nothing to fail, and an unheard
      // error would be an uncaught exception.
      if (this.listenerCount('error') > 0) this.destroy(error);
      else this.destroy();
    });
    stream.once('end', () => setImmediate(() => {
      bodyEnded = true;
      if (!this.destroyed && !this.readableEnded) this.push(null);
    }));
  }
}

// `headers` is declared as a field on the base class; TypeScript will not let a subclass
// override it with an accessor, so the accessor goes on the prototype by hand.
const baseHeaders = Object.getOwnPropertyDescriptor(Http2ServerRequest.prototype, 'headers')?.get;
Object.defineProperty(H2Request.prototype, 'headers', {
  configurable: true,
  enumerable: false,
  get(this: H2Request): IncomingHttpHeaders {
    let headers = plainHeaders.get(this);
    if (headers === undefined) {
      headers = withoutPseudoHeaders(baseHeaders?.call(this) as IncomingHttpHeaders);
      plainHeaders.set(this, headers);
    }
    return headers;
  },
});

const plainRawHeaders = new WeakMap<Http2ServerRequest, string[]>();
const distinctHeaders = new WeakMap<Http2ServerRequest, NodeJS.Dict<string[]>>();
const baseRawHeaders = Object.getOwnPropertyDescriptor(Http2ServerRequest.prototype, 'rawHeaders')?.get;

// `rawHeaders` the same way (the PDK reads repeated headers from it), and `headersDistinct`
// (repeated headers as separate values, which key-auth relies on), missing from the compat
// request: built from the raw list.
Object.defineProperty(H2Request.prototype, 'rawHeaders', {
  configurable: true,
  enumerable: false,
  get(this: H2Request): string[] {
    let raw = plainRawHeaders.get(this);
    if (raw === undefined) {
      raw = rawWithoutPseudoHeaders((baseRawHeaders?.call(this) as string[] | undefined) ?? []);
      plainRawHeaders.set(this, raw);
    }
    return raw;
  },
});
Object.defineProperty(H2Request.prototype, 'headersDistinct', {
  configurable: true,
  enumerable: false,
  get(this: H2Request): NodeJS.Dict<string[]> {
    let distinct = distinctHeaders.get(this);
    if (distinct === undefined) {
      distinct = distinctFromRaw(this.rawHeaders);
      distinctHeaders.set(this, distinct);
    }
    return distinct;
  },
});

/** `[name, value, ...]` without pseudo-headers; `Host` from `:authority` when the client sent none. */
export function rawWithoutPseudoHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  let authority: string | undefined;
  let host = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name === ':authority') authority = value;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (name.toLowerCase() === 'host') host = true;
    out.push(name, value);
  }
  if (!host && authority !== undefined) out.unshift('host', authority);
  return out;
}

/** `[name, value, ...]` → `{ name: [values] }`. */
export function distinctFromRaw(raw: readonly string[]): NodeJS.Dict<string[]> {
  const out: NodeJS.Dict<string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) (out[(raw[i] as string).toLowerCase()] ??= []).push(raw[i + 1] as string);
  return out;
}

/** `:authority` becomes `host` (unless the client sent both); pseudo-headers are left out. */
export function withoutPseudoHeaders(raw: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name of Object.keys(raw)) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    out[name] = raw[name];
  }
  const authority = raw[':authority'];
  if (out.host === undefined && typeof authority === 'string') out.host = authority;
  return out;
}

/**
 * Whether an HTTP/2 request has a body: h2 has no Transfer-Encoding, and a body may come
 * without Content-Length; only END_STREAM on the HEADERS frame says there is none.
 * `undefined` for HTTP/1.x requests.
 */
export function h2HasBody(req: IncomingMessage): boolean | undefined {
  if (req.httpVersionMajor !== 2) return undefined;
  const stream = (req as IncomingMessage & { stream?: ServerHttp2Stream }).stream;
  return stream === undefined ? undefined : !stream.endAfterHeaders;
}

const sessionSockets = new WeakMap<Http2Session, Duplex>();

/**
 * Remembers each h2 session's socket (Node only hands out a view that throws once the session
 * is gone). Node's own connection listener creates the session and emits `session`
 * synchronously before this one runs, so the two pair up.
 */
export function trackSessionSockets(server: Server, connectionEvent: 'connection' | 'secureConnection'): void {
  let created: Http2Session | undefined;
  server.on('session', (session: Http2Session) => (created = session));
  server.on(connectionEvent, (socket: Duplex) => {
    if (created !== undefined) sessionSockets.set(created, socket);
    created = undefined;
  });
}

/**
 * The connection an HTTP/2 request came on (its session's socket), for per-connection
 * accounting: `req.socket` is a per-stream view on h2, and counting bytes "since the previous
 * request on this socket" through it would count the whole session once per stream.
 * `undefined` for HTTP/1.x requests.
 */
export function h2Connection(req: IncomingMessage): Duplex | undefined {
  if (req.httpVersionMajor !== 2) return undefined;
  const session = (req as IncomingMessage & { stream?: ServerHttp2Stream }).stream?.session;
  return session === undefined ? undefined : sessionSockets.get(session);
}

type HeaderInput = OutgoingHttpHeaders | readonly OutgoingHttpHeader[] | readonly [string, OutgoingHttpHeader][];

/** The compat response that drops connection-specific headers and knows `destroyed`. */
export class H2Response extends Http2ServerResponse {
  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (!H2_FORBIDDEN_RESPONSE_HEADERS.has(name.toLowerCase())) super.setHeader(name, value);
    return this;
  }

  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | readonly OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHttpHeaders | readonly OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, second?: string | HeaderInput, third?: HeaderInput): this {
    // HTTP/2 has no reason phrase: a status message is dropped rather than warned about.
    const headers = typeof second === 'string' ? third : second;
    if (headers === undefined) return super.writeHead(statusCode);
    return super.writeHead(statusCode, allowedHeaders(headers) as OutgoingHttpHeaders);
  }
}

// Declared (but not implemented) by Node's compat response; the gateway reads it as on HTTP/1.1.
Object.defineProperty(H2Response.prototype, 'destroyed', {
  configurable: true,
  enumerable: false,
  get(this: H2Response): boolean {
    return this.stream.destroyed;
  },
});

/** Both shapes `writeHead` takes (object, flat `[name, value, ...]` list), minus forbidden names. */
function allowedHeaders(headers: HeaderInput): HeaderInput {
  if (!Array.isArray(headers)) {
    const object = headers as OutgoingHttpHeaders;
    let out: OutgoingHttpHeaders | undefined;
    for (const name of Object.keys(object)) {
      if (!H2_FORBIDDEN_RESPONSE_HEADERS.has(name.toLowerCase())) continue;
      out ??= { ...object };
      delete out[name];
    }
    return out ?? object;
  }
  const list = headers as readonly unknown[];
  if (list.length > 0 && Array.isArray(list[0])) {
    return (list as readonly [string, OutgoingHttpHeader][]).filter(([name]) => !H2_FORBIDDEN_RESPONSE_HEADERS.has(name.toLowerCase()));
  }
  const flat: OutgoingHttpHeader[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string;
    if (H2_FORBIDDEN_RESPONSE_HEADERS.has(name.toLowerCase())) continue;
    flat.push(name, list[i + 1] as OutgoingHttpHeader);
  }
  return flat;
}
