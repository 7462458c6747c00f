import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.ts';
import type { RequestObserver } from '../observability/request-observer.ts';
import { RequestPdk } from '../plugins/pdk/request-pdk.ts';
import type { StreamShape, Terminator, TerminatorExchange } from '../plugins/pdk/types.ts';
import type { Hub } from '../pubsub/hub.ts';
import {
  createTrustedIps,
  downstreamResponseHeaderList,
  downstreamResponseHeaders,
  resolveClientIp,
  UpstreamCancel,
  type UpstreamClient,
  type UpstreamResponseHead,
} from '../proxy/index.ts';
import { normalizePath, splitRequestTarget } from '../router/normalize.ts';
import { VERSION } from '../version.ts';
import { accelRedirectContext } from './accel-redirect.ts';
import { BodyLimit } from './body-limit.ts';
import type { RequestContext } from './context.ts';
import { GATEWAY_ERRORS, GatewayError, errorBody } from './errors.ts';
import { h2Connection } from './h2-compat.ts';
import { applyHeaderEdits, type OutHeaders } from './header-edits.ts';
import { PluginFailure, PluginRun } from './plugin-run.ts';
import { sendError, writeErrorToSocket } from './respond.ts';
import { ResponseWriter } from './response-writer.ts';
import type { RuntimeState } from './state.ts';
import { buildUpstreamRequest, requestBody } from './upstream-request.ts';

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
  /** Holds a subscriber stream for re-checks on reload (see `StreamRegistry.hold`). */
  readonly holdStreams: (ctx: RequestContext, hub: Pick<Hub, 'subscribe'>, stream: StreamShape) => Pick<Hub, 'subscribe'>;
  /** Metrics and the access log; undefined when both are off. */
  readonly observer?: RequestObserver | undefined;
}

const VIA = `1.1 sluice/${VERSION}`;

/** What Kong sends with its 426 "Please use HTTPS protocol". */
const KONG_426_HEADERS: Readonly<Record<string, string>> = { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' };

/** The client side of a WebSocket upgrade, as Node's `'upgrade'` event hands it over. */
type ClientUpgrade = { readonly socket: Duplex; readonly head: Buffer };

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

/**
 * The proxy listener's request lifecycle: normalize → route → rewrite/access (plugins) →
 * terminator (a plugin's answer, or the proxy to the service) → header_filter/body_filter
 * while streaming → log. Every failure goes through one path, `fail`: a GatewayError becomes
 * its JSON answer, anything else a logged 500.
 */
export function createProxyHandler(deps: ProxyHandlerDeps) {
  const trusted = createTrustedIps([...deps.trustedIps]);
  const pdkOptions = { logger: deps.logger, maxBodySize: deps.clientMaxBodySize };

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
      // (`in` would miss it on HTTP/2, where `req.socket` is a proxy of the TLS socket.)
      scheme: (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http',
      clientIp: resolveClientIp(peer, req.headers, trusted, deps.realIpHeader, deps.realIpRecursive),
      path,
      query,
      hasQueryMark,
      host,
      port,
      shared: {},
    };
  }

  function route(ctx: RequestContext, internal = false) {
    const match = ctx.state.router.match({
      method: ctx.req.method ?? 'GET',
      path: ctx.path,
      host: ctx.host,
      port: ctx.port,
      headers: ctx.req.headers,
      scheme: ctx.scheme,
      ...(sniOf(ctx.req) !== undefined ? { sni: sniOf(ctx.req) } : {}),
      ...(internal ? { internal } : {}),
    });
    if (!match) throw new GatewayError('NO_ROUTE');
    ctx.match = match;
    if (needsHttps(ctx) && match.route.https_redirect_status_code === 426) throw new GatewayError('HTTPS_REQUIRED');
    return match;
  }

  /**
   * An https-only route reached over plain HTTP: the real connection decides, or, as in Kong, a
   * trusted peer's `X-Forwarded-Proto: https` (a TLS-terminating load balancer in front).
   */
  function needsHttps(ctx: RequestContext): boolean {
    if (!ctx.match?.httpsRedirect) return false;
    const forwarded = ctx.req.headers['x-forwarded-proto'];
    return !(typeof forwarded === 'string' && forwarded.toLowerCase() === 'https' && trusted.isTrusted(ctx.req.socket.remoteAddress ?? ''));
  }

  /** An https-only route reached over plain HTTP with a redirect code: answer the redirect. */
  function redirectToHttps(ctx: RequestContext): boolean {
    const match = ctx.match;
    if (match === undefined || !needsHttps(ctx)) return false;
    ctx.res.writeHead(match.route.https_redirect_status_code, { location: `https://${ctx.host}${ctx.req.url ?? '/'}`, 'content-length': 0 });
    ctx.res.end();
    return true;
  }

  /** A response the gateway or a plugin makes itself, through header_filter/body_filter. */
  async function respond(ctx: RequestContext, run: PluginRun | undefined, status: number, headers: OutHeaders, body: Buffer, source: 'exit' | 'error') {
    if (run) {
      ctx.response = { status, headers: applyHeaderEdits(headers, ctx.responseEdits ?? []), source };
      if (run.hasHeaderFilter) await run.headerFilter();
      if (run.hasBodyFilter) body = Buffer.concat([run.bodyFilter(body, false), run.bodyFilter(Buffer.alloc(0), true)]);
      ({ status, headers } = ctx.response);
    }
    headers['content-length'] = String(body.length);
    ctx.res.writeHead(status, headers);
    ctx.res.end(body);
  }

  async function proxy(ctx: RequestContext, run: PluginRun | undefined, redirects: number): Promise<void> {
    const body = requestBody(ctx, deps.clientMaxBodySize);
    const cancel = new UpstreamCancel();
    // One listener serves the whole exchange: a client that leaves early cancels the upstream
    // request (or its body, once streaming), and the close after a finished response ends it.
    const closed = new Promise<void>((resolve) => {
      ctx.res.once('close', () => {
        if (!ctx.res.writableFinished) cancel.abort(new Error('client closed the connection'));
        resolve();
      });
    });
    const writer = new ResponseWriter(ctx, (head) => writeProxiedHead(ctx, head), run !== undefined);
    try {
      await deps.upstream.forward(buildUpstreamRequest(ctx, trusted, body, { upgrade: false, withPlugins: run !== undefined }), writer, cancel);
    } catch (error) {
      if (body instanceof BodyLimit && body.tripped) throw new GatewayError('BODY_TOO_LARGE');
      throw error;
    }
    if (writer.redirect !== undefined) {
      writer.discard();
      return accelRedirect(ctx, run, writer.redirect, redirects + 1);
    }
    if (run && writer.head) {
      ctx.response = { status: writer.head.status, headers: proxiedHeaders(ctx, writer.head), source: 'service' };
      applyHeaderEdits(ctx.response.headers, ctx.responseEdits ?? []);
      if (run.hasHeaderFilter) await run.headerFilter();
      if (run.hasBodyFilter) writer.filter = (chunk, eof) => run.bodyFilter(chunk, eof);
      ctx.res.writeHead(ctx.response.status, ctx.response.headers);
      writer.release();
    }
    await closed;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let ctx: RequestContext | undefined;
    let tail: StreamTail | undefined;
    const socket = h2Connection(req) ?? req.socket;
    try {
      try {
        if (deps.isStopping()) res.setHeader('connection', 'close');
        ctx = createContext(req, res);
        route(ctx);
        if (redirectToHttps(ctx)) return;
      } catch (error) {
        return await fail(ctx, res, undefined, error);
      }
      tail = await serve(ctx, 0);
    } finally {
      if (tail === undefined) deps.observer?.done(ctx, req, res, socket, false);
      else if (deps.observer) {
        const record = deps.observer.later(ctx, req, res, socket, false);
        void tail.ended.then(record, record);
      }
    }
  }

  /**
   * A routed request from the plugins on: rewrite/access, then exit, terminator or proxy, then
   * log. A stream that outlived its request (see `TerminatorExchange.detached`) comes back as a
   * tail: its log phase is chained on the stream's end, holding the plugin run only if a
   * plugin has a log phase.
   */
  async function serve(ctx: RequestContext, redirects: number): Promise<StreamTail | undefined> {
    let run: PluginRun | undefined;
    let tail: StreamTail | undefined;
    try {
      const match = ctx.match;
      if (!match) throw new GatewayError('NO_ROUTE');
      const chain = ctx.state.plugins.forRoute(match.route, match.service);
      if (!chain.empty) {
        run = new PluginRun(ctx, chain, new RequestPdk(ctx, pdkOptions), deps.logger);
        await run.rewrite();
        if (!ctx.exit) await run.access();
      }
      if (ctx.exit) await respond(ctx, run, ctx.exit.status, { ...ctx.exit.headers }, ctx.exit.body, 'exit');
      else if (ctx.terminator) tail = await terminate(ctx, run, ctx.terminator, redirects === 0);
      else await proxy(ctx, run, redirects);
    } catch (error) {
      await fail(ctx, ctx.res, run, error);
    }
    if (tail !== undefined) return run?.hasLog === true ? afterStream(tail, run) : tail;
    if (run) await run.log();
    return undefined;
  }

  /**
   * The terminator serves the request; a stream that detaches hands its end back as a tail
   * (only offered to requests served directly: an X-Accel-Redirect's outer request awaits).
   */
  async function terminate(ctx: RequestContext, run: PluginRun | undefined, terminator: Terminator, detachable: boolean): Promise<StreamTail | undefined> {
    let tail: StreamTail | undefined;
    const exchange = terminatorExchange(ctx, run);
    await terminator.handle(detachable ? { ...exchange, detached: (ended) => void (tail = { ended }) } : exchange);
    return tail;
  }

  /**
   * nchan's X-Accel-Redirect (see accel-redirect.ts): the upstream's answer is gone and the same
   * client request, or WebSocket upgrade, is served again on the internal route the target
   * matches, with that route's plugins.
   */
  async function accelRedirect(ctx: RequestContext, run: PluginRun | undefined, target: string, redirects: number, upgrade?: ClientUpgrade): Promise<void> {
    const { inner, url } = accelRedirectContext(ctx, target, redirects);
    route(inner, true);
    ctx.req.url = url;
    await (upgrade ? serveUpgrade(inner, upgrade, redirects) : serve(inner, redirects));
    // The first route's log phase sees what the client got.
    if (run && inner.response) ctx.response = inner.response;
    if (inner.upstreamLatencyMs !== undefined) ctx.upstreamLatencyMs = inner.upstreamLatencyMs;
  }

  /** What a terminator (pub/sub) gets; its response head goes through header_filter too. */
  function terminatorExchange(ctx: RequestContext, run: PluginRun | undefined, upgrade?: ClientUpgrade): TerminatorExchange {
    const observer = deps.observer;
    return {
      req: ctx.req,
      res: ctx.res,
      requestId: ctx.id,
      ...(upgrade ? { upgrade } : {}),
      holdStreams: (hub, stream) => deps.holdStreams(ctx, hub, stream),
      adoptSocket: deps.trackUpgrade,
      ...(observer ? { trackStream: (transport: string, channels: readonly string[]) => observer.trackStream(ctx, transport, channels) } : {}),
      writeHead: async (status, headers) => {
        if (run) {
          ctx.response = { status, headers: applyHeaderEdits({ ...headers }, ctx.responseEdits ?? []), source: 'exit' };
          if (run.hasHeaderFilter) await run.headerFilter();
          ({ status, headers } = ctx.response);
        }
        ctx.res.writeHead(status, headers);
      },
    };
  }

  /** nginx's error log: the upstream failed, with the row's stable code and what happened. */
  function logUpstreamFailure(ctx: RequestContext | undefined, error: GatewayError): void {
    const detail = error.detail ?? (error.cause as Error | undefined)?.message;
    deps.logger.warn({ request_id: ctx?.id, code: error.code, ...(detail !== undefined ? { detail } : {}), route: ctx?.match?.route.name ?? ctx?.match?.route.id }, error.message);
  }

  async function fail(ctx: RequestContext | undefined, res: ServerResponse, run: PluginRun | undefined, error: unknown): Promise<void> {
    // The client went away (nginx's 499): nobody is left to answer and nothing went wrong here.
    if (res.destroyed || res.socket?.destroyed) return;
    if (res.headersSent) return void res.destroy();
    const code = error instanceof GatewayError ? error.code : 'INTERNAL';
    if (code === 'INTERNAL') {
      const plugin = error instanceof PluginFailure ? { plugin: error.plugin, phase: error.phase } : {};
      deps.logger.error({ err: error, request_id: ctx?.id, code: error instanceof PluginFailure ? 'PLUGIN_FAILED' : code, ...plugin }, 'request failed');
    } else if (GATEWAY_ERRORS[code].status >= 502) {
      logUpstreamFailure(ctx, error as GatewayError);
    }
    // An unread request body would be parsed as the next request: close instead.
    const extra: Record<string, string> = code === 'BODY_TOO_LARGE' ? { connection: 'close' } : code === 'HTTPS_REQUIRED' ? KONG_426_HEADERS : {};
    // The plugins that ran also see error answers in header_filter (cors on a 502), unless a
    // plugin is what failed.
    if (!ctx || !run || error instanceof PluginFailure) return sendError(res, code, ctx?.id, extra);
    const headers: OutHeaders = { 'content-type': 'application/json; charset=utf-8', ...extra };
    try {
      await respond(ctx, run, GATEWAY_ERRORS[code].status, headers, Buffer.from(errorBody(code, ctx.id)), 'error');
    } catch (filterError) {
      deps.logger.error({ err: filterError, request_id: ctx.id, code: 'PLUGIN_FAILED' }, 'header_filter failed on an error response');
      if (!res.headersSent) sendError(res, code, ctx.id, extra);
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let ctx: RequestContext | undefined;
    // Upgrades come without a response object; one bound to the socket keeps a single error
    // path and lets plugins answer an upgrade like any other request.
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    try {
      await upgrade(req, res, socket, head, (created) => (ctx = created));
    } finally {
      deps.observer?.done(ctx, req, res, socket, true);
    }
  }

  async function upgrade(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer, created: (ctx: RequestContext) => void): Promise<void> {
    let ctx: RequestContext | undefined;
    try {
      ctx = createContext(req, res);
      created(ctx);
      route(ctx);
      if (needsHttps(ctx)) throw new GatewayError('HTTPS_REQUIRED');
    } catch (error) {
      return fail(ctx, res, undefined, error);
    }
    await serveUpgrade(ctx, { socket, head }, 0);
  }

  /**
   * serve() for a routed WebSocket upgrade (no log phase): a plugin's answer, the terminator
   * (a pubsub-subscriber takes the socket), or the pass-through to the service, whose
   * X-Accel-Redirect sends the upgrade on to an internal route as for plain requests.
   */
  async function serveUpgrade(ctx: RequestContext, upgrade: ClientUpgrade, redirects: number): Promise<void> {
    const socket = upgrade.socket as Socket;
    let run: PluginRun | undefined;
    try {
      const match = ctx.match;
      if (!match) throw new GatewayError('NO_ROUTE');
      const chain = ctx.state.plugins.forRoute(match.route, match.service);
      if (!chain.empty) {
        run = new PluginRun(ctx, chain, new RequestPdk(ctx, pdkOptions), deps.logger);
        await run.rewrite();
        if (!ctx.exit) await run.access();
      }
      if (ctx.exit) return await respond(ctx, run, ctx.exit.status, { ...ctx.exit.headers }, ctx.exit.body, 'exit');
      deps.trackUpgrade(socket);
      if (ctx.terminator) return await ctx.terminator.handle(terminatorExchange(ctx, run, upgrade));
      ctx.res.detachSocket(socket);
      const request = buildUpstreamRequest(ctx, trusted, null, { upgrade: true, withPlugins: run !== undefined });
      const result = await deps.upstream.upgrade(request, { req: ctx.req, socket, head: upgrade.head, requestId: ctx.id });
      if (result.error !== undefined && result.status >= 502) logUpstreamFailure(ctx, result.error);
      if (result.redirect === undefined) return;
      // Nothing was written: the socket is the gateway's again, for the internal route's answer.
      ctx.res.assignSocket(socket);
      await accelRedirect(ctx, run, result.redirect, redirects + 1, upgrade);
    } catch (error) {
      if (ctx.res.socket) return fail(ctx, ctx.res, run, error);
      writeErrorToSocket(socket, error instanceof GatewayError ? error.code : 'INTERNAL');
    }
  }

  return {
    request: (req: IncomingMessage, res: ServerResponse): void => void handle(req, res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer): void => void handleUpgrade(req, socket, head),
  };
}

/** A stream's end, once the request that opened it is over (see `TerminatorExchange.detached`). */
interface StreamTail {
  readonly ended: Promise<void>;
}

/** The log phase after the stream's end; a failing end still logs. */
function afterStream(tail: StreamTail, run: PluginRun): StreamTail {
  return { ended: tail.ended.then(() => run.log(), () => run.log()) };
}

/** Fast path (no plugins): the upstream head straight to the client as a flat list. */
function writeProxiedHead(ctx: RequestContext, head: UpstreamResponseHead): void {
  const headers = downstreamResponseHeaderList(head.headers, VIA, LATENCY_HEADERS);
  headers.push('x-kong-upstream-latency', String(Math.round(head.latencyMs)), 'x-kong-proxy-latency', String(proxyLatency(ctx, head)));
  ctx.res.writeHead(head.status, headers);
}

/** With plugins: the same headers as an object header_filter can change. */
function proxiedHeaders(ctx: RequestContext, head: UpstreamResponseHead): OutHeaders {
  const headers = downstreamResponseHeaders(head.headers, { via: VIA });
  headers['x-kong-upstream-latency'] = String(Math.round(head.latencyMs));
  headers['x-kong-proxy-latency'] = String(proxyLatency(ctx, head));
  return headers;
}

function proxyLatency(ctx: RequestContext, head: UpstreamResponseHead): number {
  return Math.max(0, Math.round(performance.now() - ctx.startedAt - head.latencyMs));
}

/** The TLS SNI the client sent, for routes with `snis`. */
function sniOf(req: IncomingMessage): string | undefined {
  const servername = (req.socket as Partial<TLSSocket>).servername;
  return typeof servername === 'string' && servername !== '' ? servername : undefined;
}

function splitHost(header: string | undefined, localPort: number): [string, number] {
  if (!header) return ['', localPort];
  const value = header.toLowerCase();
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  if (!match) return [value, localPort];
  return [match[1] ?? value, match[2] ? Number(match[2]) : localPort];
}
