/**
 * HTTP/2 clients for tests (node:http2) against a gateway on an `ssl http2` (or `http2`)
 * listener, with certificates from the throwaway test PKI.
 *
 * @example
 *   const gw = await startH2Gateway(yaml);
 *   const session = await gw.connect();            // ALPN h2, trusts the test CA
 *   const res = await h2Request(session, '/echo');  // { status, headers, body }
 *   const sse = h2Stream(session, '/sub/news', { accept: 'text/event-stream' });
 *   await sse.until((text) => text.includes('data: hi'));
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { once } from 'node:events';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { GatewayOptions } from '../../src/gateway/gateway.ts';
import { startGateway, type TestGateway } from './gateway.ts';
import { testPki, type Pem } from './tls.ts';

/** The test server certificate: `localhost` and 127.0.0.1, signed by the test CA. */
let serverPem: Pem | undefined;
export function serverCertificate(): Pem {
  serverPem ??= testPki().server(['localhost', '127.0.0.1']);
  return serverPem;
}

export interface H2TestGateway extends TestGateway {
  /** `https://127.0.0.1:<port>` (or `http://` for h2c). */
  readonly origin: string;
  /** A new h2 session to the proxy listener; closed with the gateway if still open. */
  connect(options?: SecureClientSessionOptions): Promise<ClientHttp2Session>;
}

/** A gateway whose proxy listener is `127.0.0.1:0 ssl http2` (`h2c: true`: `http2` only). */
export async function startH2Gateway(yaml: string, overrides: Partial<GatewayOptions> & { h2c?: boolean } = {}): Promise<H2TestGateway> {
  const { h2c = false, ...rest } = overrides;
  const loopback = { host: '127.0.0.1', port: 0 };
  const proxy = h2c ? { ...loopback, http2: true } : { ...loopback, ssl: true, http2: true };
  const pem = serverCertificate();
  const gw = await startGateway(yaml, {
    listen: { proxy: [proxy], admin: [loopback], internal: [], status: [] },
    tls: { defaultCertificate: { cert: [pem.cert], key: [pem.key] } },
    ...rest,
  });
  const origin = `${h2c ? 'http' : 'https'}://127.0.0.1:${gw.proxyPort}`;
  const sessions = new Set<ClientHttp2Session>();
  return {
    ...gw,
    origin,
    async connect(options = {}) {
      const session = connect(origin, { ca: testPki().ca.cert, servername: 'localhost', ...options });
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      session.on('error', () => {});
      // The server's SETTINGS (stream limits) may come just after the handshake.
      const settled = once(session, 'remoteSettings');
      await once(session, 'connect');
      await settled;
      return session;
    },
    async close() {
      await gw.close();
      for (const session of sessions) session.destroy();
    },
  };
}

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request on `session`; resolves with the whole response. */
export async function h2Request(session: ClientHttp2Session, path: string, headers: OutgoingHttpHeaders = {}, body?: string | Buffer): Promise<H2Response> {
  const stream = session.request({ ':path': path, ...headers }, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { status: Number(head[':status']), headers: head, body: Buffer.concat(chunks).toString('utf8') };
}

export interface H2Stream {
  readonly stream: ClientHttp2Stream;
  /** The response head, once it came. */
  readonly head: Promise<IncomingHttpHeaders>;
  /** Everything received so far. */
  text(): string;
  /** Resolves once `test(text so far)` holds; rejects if the stream ends first or after `timeoutMs`. */
  until(test: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the response has ended (or the stream closed). */
  readonly ended: Promise<void>;
}

/** A long-lived response (EventSource, chunked, ...) read as it arrives. */
export function h2Stream(session: ClientHttp2Session, path: string, headers: OutgoingHttpHeaders = {}): H2Stream {
  const stream = session.request({ ':path': path, ...headers });
  let text = '';
  const waiters = new Set<() => void>();
  const head = once(stream, 'response').then(([h]) => h as IncomingHttpHeaders);
  head.catch(() => {});
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
    for (const w of waiters) w();
  });
  stream.on('error', () => {});
  const ended = new Promise<void>((resolve) => stream.once('close', () => {
    resolve();
    for (const w of waiters) w();
  }));
  return {
    stream,
    head,
    text: () => text,
    ended,
    until(test, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (test(text)) {
            cleanup();
            resolve(text);
          } else if (stream.closed) {
            cleanup();
            reject(new Error(`stream closed before the expected data; got ${JSON.stringify(text)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out; got ${JSON.stringify(text)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export interface H1Response extends H2Response {
  /** What ALPN settled on for the connection (`http/1.1`, or false without ALPN). */
  readonly alpn: string | false;
}

/** An HTTPS/1.1 request (ALPN `http/1.1`) to the same listener, trusting the test CA. */
export function h1Request(origin: string, path: string, headers: OutgoingHttpHeaders = {}, body?: string): Promise<H1Response> {
  return new Promise((resolve, reject) => {
    const options: RequestOptions & ConnectionOptions = { method: body === undefined ? 'GET' : 'POST', headers, ca: testPki().ca.cert, servername: 'localhost', ALPNProtocols: ['http/1.1'], agent: false };
    const req = httpsRequest(`${origin}${path}`, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), alpn: (res.socket as TLSSocket).alpnProtocol ?? false }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
