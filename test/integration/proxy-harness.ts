/**
 * Fixtures for the proxy tests: config entities with Kong's defaults, servers on port 0, and a
 * minimal gateway stand-in that turns a client request into an UpstreamRequest and pipes the
 * UpstreamResponse back (the real gateway lives in src/gateway).
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Service, Target, Upstream } from '../../src/config/types.ts';
import { GatewayError, errorBody } from '../../src/gateway/errors.ts';
import { downstreamResponseHeaders, upstreamRequestHeaders, type UpstreamHeaderInput } from '../../src/proxy/headers.ts';
import type { UpstreamRequest } from '../../src/proxy/types.ts';
import type { UpstreamClient } from '../../src/proxy/upstream-client.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function makeService(overrides: Partial<Mutable<Service>> = {}): Service {
  return {
    id: 'svc-1',
    protocol: 'http',
    host: '127.0.0.1',
    port: 80,
    retries: 5,
    connect_timeout: 60_000,
    write_timeout: 60_000,
    read_timeout: 60_000,
    enabled: true,
    tags: [],
    ...overrides,
  };
}

export function makeUpstream(targets: readonly (string | [string, number])[], overrides: Partial<Mutable<Upstream>> = {}): Upstream {
  const id = overrides.id ?? 'up-1';
  const list: Target[] = targets.map((t, i) => {
    const [target, weight] = typeof t === 'string' ? [t, 100] : t;
    return { id: `${id}-t${i}`, target, weight, upstream: id, tags: [] };
  });
  return {
    id,
    name: 'backend.internal',
    algorithm: 'round-robin',
    hash_on: 'none',
    hash_fallback: 'none',
    hash_on_cookie_path: '/',
    slots: 10_000,
    healthchecks: {
      threshold: 0,
      active: {
        type: 'http',
        timeout: 1,
        concurrency: 10,
        http_path: '/',
        healthy: { interval: 0, http_statuses: [200, 302], successes: 0 },
        unhealthy: { interval: 0, http_statuses: [429, 404, 500, 501, 502, 503, 504, 505], tcp_failures: 0, timeouts: 0, http_failures: 0 },
      },
      passive: {
        type: 'http',
        healthy: { http_statuses: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], successes: 0 },
        unhealthy: { http_statuses: [429, 500, 503], tcp_failures: 0, timeouts: 0, http_failures: 0 },
      },
    },
    targets: list,
    tags: [],
    ...overrides,
  };
}

export interface Running {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function listen(server: Server, wanted = 0): Promise<Running> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function startServer(handler: RequestListener): Promise<Running> {
  return listen(createServer(handler));
}

/** A port nobody listens on: bind, note the port, close. */
export async function closedPort(): Promise<number> {
  const running = await startServer(() => undefined);
  await running.close();
  return running.port;
}

export interface GatewayOptions {
  readonly service: Service;
  readonly upstream?: Upstream;
  readonly preserveHost?: boolean;
}

/**
 * The headers the stand-in gateways send upstream for `req`: headers.ts for a direct, untrusted
 * peer on a plain-http listener; `path` is the request path without its query.
 */
export function standInUpstreamHeaders(
  req: IncomingMessage,
  path: string,
  target: Pick<UpstreamHeaderInput, 'service' | 'upstream' | 'preserveHost' | 'upgrade'>,
): ReturnType<typeof upstreamRequestHeaders> {
  const peerIp = req.socket.remoteAddress ?? '127.0.0.1';
  return upstreamRequestHeaders({
    headers: req.headers,
    peerIp,
    peerTrusted: false,
    clientIp: peerIp,
    scheme: 'http',
    listenerPort: req.socket.localPort ?? 0,
    path,
    ...target,
  });
}

/** The stand-in gateway: headers via headers.ts, send via the client, stream the answer back. */
export function startGateway(client: UpstreamClient, options: GatewayOptions): Promise<Running> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const peerIp = req.socket.remoteAddress ?? '127.0.0.1';
    const request: UpstreamRequest = {
      method: req.method ?? 'GET',
      pathAndQuery: url,
      headers: standInUpstreamHeaders(req, path, { preserveHost: options.preserveHost ?? false, service: options.service, upstream: options.upstream }),
      body: hasBody ? req : null,
      service: options.service,
      upstream: options.upstream,
      hashInputs: {
        clientIp: peerIp,
        headers: req.headers,
        path,
        query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
        uriCaptures: {},
      },
    };
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client closed'));
    });
    try {
      const upstreamResponse = await client.send(request, abort.signal);
      const headers = downstreamResponseHeaders(upstreamResponse.headers, { via: '1.1 sluice/test' });
      headers['x-upstream-target'] = upstreamResponse.target;
      res.writeHead(upstreamResponse.status, headers);
      upstreamResponse.body.pipe(res);
      upstreamResponse.body.once('error', () => res.destroy());
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : 'INTERNAL';
      const status = error instanceof GatewayError ? error.status : 500;
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(errorBody(code));
      } else res.destroy();
      req.resume();
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  return listen(server);
}
