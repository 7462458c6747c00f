import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import type { Logger } from '../observability/logger.ts';
import {
  createTrustedIps,
  downstreamResponseHeaderList,
  resolveClientIp,
  upstreamRequestHeaders,
  type UpstreamClient,
} from '../proxy/index.ts';
import type { HashInputs, UpstreamRequest } from '../proxy/types.ts';
import { UpstreamCancel, type BodyFlow, type ResponseSink, type UpstreamResponseHead } from '../proxy/upstream-client.ts';
import { normalizePath, splitRequestTarget } from '../router/normalize.ts';
import { buildUpstreamPath } from '../router/upstream-path.ts';
import { VERSION } from '../version.ts';
import { BodyLimit } from './body-limit.ts';
import type { RequestContext } from './context.ts';
import { GatewayError } from './errors.ts';
import { runPhase } from './phases.ts';
import { sendError, writeErrorToSocket } from './respond.ts';
import type { RuntimeState } from './state.ts';

export interface ProxyHandlerDeps {
  readonly getState: () => RuntimeState;
  readonly upstream: UpstreamClient;
  readonly trustedIps: readonly string[];
  readonly realIpHeader: string;
  readonly realIpRecursive: boolean;
  readonly clientMaxBodySize: number;
  readonly logger: Logger;
  readonly isStopping: () => boolean;
  readonly trackUpgrade: (socket: Duplex) => void;
}

const VIA = `1.1 sluice/${VERSION}`;

/** Set by the gateway on every proxied response, replacing whatever the upstream sent. */
const LATENCY_HEADERS: ReadonlySet<string> = new Set(['x-kong-upstream-latency', 'x-kong-proxy-latency']);

/**
 * Request ids: a random per-process prefix plus a counter is unique without paying for
 * `randomUUID()` on every request.
 */
const REQUEST_ID_PREFIX = randomBytes(8).toString('hex');
let requestSequence = 0;

function nextRequestId(): string {
  requestSequence++;
  return `${REQUEST_ID_PREFIX}-${requestSequence.toString(36)}`;
}

/** Consistent-hashing inputs; the query is parsed only if a `hash_on: query_arg` asks for it. */
class RequestHashInputs implements HashInputs {
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    readonly clientIp: string,
    readonly headers: IncomingMessage['headers'],
    readonly path: string,
    private readonly rawQuery: string,
    readonly uriCaptures: Readonly<Record<string, string>>,
  ) {}

  get query(): URLSearchParams {
    this.parsedQuery ??= new URLSearchParams(this.rawQuery);
    return this.parsedQuery;
  }
}

/**
 * The proxy listener's request lifecycle: normalize → route → rewrite/access → terminator
 * (proxy to the service) → header_filter/body_filter while streaming → log.
 * Every failure goes through one path: a {@link GatewayError} becomes its JSON answer.
 */
export function createProxyHandler(deps: ProxyHandlerDeps) {
  const trusted = createTrustedIps([...deps.trustedIps]);

  function createContext(req: IncomingMessage, res: ServerResponse): RequestContext {
    const state = deps.getState();
    const { path: rawPath, query, hasQueryMark } = splitRequestTarget(req.url ?? '/');
    const path = normalizePath(rawPath);
    const [host, port] = splitHost(req.headers.host, req.socket.localPort ?? 0);
    const peer = req.socket.remoteAddress ?? '';
    return {
      id: nextRequestId(),
      startedAt: performance.now(),
      req,
      res,
      state,
      scheme: 'encrypted' in req.socket ? 'https' : 'http',
      clientIp: resolveClientIp(peer, req.headers, trusted, deps.realIpHeader, deps.realIpRecursive),
      path,
      query,
      hasQueryMark,
      host,
      port,
      exited: false,
      shared: {},
    };
  }

  function route(ctx: RequestContext) {
    const match = ctx.state.router.match({
      method: ctx.req.method ?? 'GET',
      path: ctx.path,
      host: ctx.host,
      port: ctx.port,
      headers: ctx.req.headers,
      scheme: ctx.scheme,
    });
    if (!match) throw new GatewayError('NO_ROUTE');
    ctx.match = match;
    return match;
  }

  function buildUpstreamRequest(ctx: RequestContext, body: Readable | null, upgrade: boolean): UpstreamRequest {
    const match = ctx.match;
    const service = match?.service;
    if (!match || !service) throw new GatewayError('NO_SERVICE');
    const upstream = ctx.state.snapshot.upstreams.get(service.host);
    const upstreamPath = buildUpstreamPath(service, match.route, match, ctx.path);
    const pathAndQuery = ctx.hasQueryMark ? `${upstreamPath}?${ctx.query}` : upstreamPath;
    const peerIp = ctx.req.socket.remoteAddress ?? '';
    const headers = upstreamRequestHeaders({
      headers: ctx.req.headers,
      peerIp,
      peerTrusted: !trusted.empty && trusted.isTrusted(peerIp),
      clientIp: ctx.clientIp,
      scheme: ctx.scheme,
      listenerPort: ctx.req.socket.localPort ?? 0,
      path: ctx.path,
      strippedPrefix: match.route.strip_path ? match.matchedPath : undefined,
      preserveHost: match.route.preserve_host,
      service,
      upstream,
      upgrade,
    });
    return {
      method: ctx.req.method ?? 'GET',
      pathAndQuery,
      headers,
      body,
      service,
      upstream,
      // Only an Upstream's balancer hashes; a plain service host needs no inputs.
      hashInputs:
        upstream === undefined ? undefined : new RequestHashInputs(ctx.clientIp, ctx.req.headers, ctx.path, ctx.query, match.uriCaptures.named),
    };
  }

  /** The request body as a stream to forward, limited when a limit is configured. */
  function requestBody(req: IncomingMessage): Readable | null {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (!hasBody) {
      req.resume();
      return null;
    }
    const limit = deps.clientMaxBodySize;
    if (limit === 0) return req;
    if (length !== undefined && Number(length) > limit) throw new GatewayError('BODY_TOO_LARGE');
    const limited = new BodyLimit(limit);
    req.on('error', (error) => limited.destroy(error));
    return req.pipe(limited);
  }

  function httpsRedirect(ctx: RequestContext): void {
    const route = ctx.match?.route;
    if (!route || !ctx.match?.httpsRedirect) return;
    const status = route.https_redirect_status_code;
    if (status === 426) throw new GatewayError('HTTPS_REQUIRED');
    const location = `https://${ctx.host}${ctx.req.url ?? '/'}`;
    ctx.res.writeHead(status, { location, 'content-length': 0 });
    ctx.res.end();
    ctx.exited = true;
  }

  async function proxy(ctx: RequestContext, hooks: ReturnType<RuntimeState['hooksFor']>): Promise<void> {
    const body = requestBody(ctx.req);
    const cancel = new UpstreamCancel();
    // One listener serves the whole exchange: a client that leaves early cancels the upstream
    // request (or its body, once streaming), and the close after a finished response ends it.
    const closed = new Promise<void>((resolve) => {
      ctx.res.once('close', () => {
        if (!ctx.res.writableFinished) cancel.abort(new Error('client closed the connection'));
        resolve();
      });
    });
    const writer = new ResponseWriter(ctx, hooks.header_filter.length > 0);
    try {
      await deps.upstream.forward(buildUpstreamRequest(ctx, body, false), writer, cancel);
    } catch (error) {
      if (body instanceof BodyLimit && body.tripped) throw new GatewayError('BODY_TOO_LARGE');
      throw error;
    }
    if (hooks.header_filter.length > 0) {
      await runPhase(hooks.header_filter, ctx);
      writer.release();
    }
    await closed;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let ctx: RequestContext | undefined;
    try {
      if (deps.isStopping()) res.setHeader('connection', 'close');
      ctx = createContext(req, res);
      const match = route(ctx);
      httpsRedirect(ctx);
      if (ctx.exited) return;
      const hooks = ctx.state.hooksFor(match);
      // Empty phases are skipped rather than awaited: each await costs a promise and a tick.
      if (hooks.rewrite.length > 0) await runPhase(hooks.rewrite, ctx);
      if (!ctx.exited && hooks.access.length > 0) await runPhase(hooks.access, ctx);
      if (!ctx.exited) await proxy(ctx, hooks);
      if (hooks.log.length > 0) await runPhase(hooks.log, ctx);
    } catch (error) {
      fail(res, error, ctx?.id);
    }
  }

  function fail(res: ServerResponse, error: unknown, requestId: string | undefined): void {
    // The client went away (nginx's 499): nobody is left to answer and nothing went wrong here.
    if (res.destroyed || res.socket?.destroyed) return;
    if (error instanceof GatewayError) {
      // An unread request body would be parsed as the next request: close instead.
      const headers: Record<string, string> = error.code === 'BODY_TOO_LARGE' ? { connection: 'close' } : {};
      sendError(res, error.code, requestId, headers);
      return;
    }
    deps.logger.error({ err: error, request_id: requestId, code: 'INTERNAL' }, 'request failed');
    sendError(res, 'INTERNAL', requestId);
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let ctx: RequestContext | undefined;
    try {
      // Upgrades come without a response object; one bound to the socket keeps a single
      // error path (and lets plugins answer upgrades like any other request).
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.once('finish', () => socket.end());
      ctx = createContext(req, res);
      route(ctx);
      if (ctx.match?.httpsRedirect) throw new GatewayError('HTTPS_REQUIRED');
      deps.trackUpgrade(socket);
      await deps.upstream.upgrade(buildUpstreamRequest(ctx, null, true), { req, socket, head, requestId: ctx.id });
    } catch (error) {
      if (ctx) return fail(ctx.res, error, ctx.id);
      writeErrorToSocket(socket, error instanceof GatewayError ? error.code : 'INTERNAL');
    }
  }

  return {
    request: (req: IncomingMessage, res: ServerResponse): void => void handle(req, res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer): void => void handleUpgrade(req, socket, head),
  };
}

/**
 * Writes the upstream response to the client as it arrives: the head at once, then each body
 * chunk, pausing the upstream while the client's socket is full. Cheaper than a Readable plus
 * `pipeline()` per response (streams, end-of-stream watchers, an AbortController and a
 * DOMException each time). While header_filter hooks run, the body is held back (the upstream
 * stays paused, so at most one chunk waits here).
 */
class ResponseWriter implements ResponseSink {
  private held: Buffer[] | undefined;
  private heldEnd = false;
  private flow: BodyFlow | undefined;
  private readonly onDrain = (): void => this.flow?.resume();

  constructor(
    private readonly ctx: RequestContext,
    holdBody: boolean,
  ) {
    if (holdBody) this.held = [];
  }

  start(head: UpstreamResponseHead, flow: BodyFlow): void {
    this.flow = flow;
    const headers = downstreamResponseHeaderList(head.headers, VIA, LATENCY_HEADERS);
    const proxyLatency = Math.max(0, Math.round(performance.now() - this.ctx.startedAt - head.latencyMs));
    headers.push('x-kong-upstream-latency', String(Math.round(head.latencyMs)), 'x-kong-proxy-latency', String(proxyLatency));
    this.ctx.res.writeHead(head.status, headers);
  }

  write(chunk: Buffer): boolean {
    if (this.held !== undefined) {
      this.held.push(chunk);
      return false;
    }
    if (this.ctx.res.write(chunk)) return true;
    this.ctx.res.once('drain', this.onDrain);
    return false;
  }

  end(): void {
    if (this.held !== undefined) this.heldEnd = true;
    else this.ctx.res.end();
  }

  fail(error: Error): void {
    if (!this.ctx.res.destroyed) this.ctx.res.destroy(error);
  }

  /** header_filter is done: let the held body through. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    let flowing = true;
    for (const chunk of held) flowing = this.write(chunk);
    if (this.heldEnd) this.ctx.res.end();
    else if (flowing) this.flow?.resume();
  }
}

function splitHost(header: string | undefined, localPort: number): [string, number] {
  if (!header) return ['', localPort];
  const value = header.toLowerCase();
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  if (!match) return [value, localPort];
  return [match[1] ?? value, match[2] ? Number(match[2]) : localPort];
}
