import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.ts';
import type { RequestObserver } from '../observability/request-observer.ts';
import { RequestPdk } from '../plugins/pdk/request-pdk.ts';
import type { StreamShape, Terminator, TerminatorExchange } from '../plugins/pdk/types.ts';
import type { Hub } from '../pubsub/hub.ts';
import type { RouteRequest } from '../router/index.ts';
import { createTrustedIps, UpstreamCancel, type UpstreamClient } from '../proxy/index.ts';
import { accelRedirectContext } from './accel-redirect.ts';
import { BodyLimit } from './body-limit.ts';
import type { RequestContext } from './context.ts';
import { DetachedStream } from './detached-stream.ts';
import { errorAnswer, respond } from './error-answer.ts';
import { GatewayError } from './errors.ts';
import { h2Connection } from './h2-compat.ts';
import { applyHeaderEdits } from './header-edits.ts';
import { needsHttps, redirectToHttps } from './https-only.ts';
import { PluginRun } from './plugin-run.ts';
import { proxiedHeaders, writeProxiedHead } from './proxied-head.ts';
import { requestStarter, sniOf } from './request-start.ts';
import { ResponseWriter } from './response-writer.ts';
import type { RuntimeState } from './state.ts';
import { buildUpstreamRequest, requestBody } from './upstream-request.ts';
import { upgradeHandler, type ClientUpgrade } from './upgrade-handler.ts';

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

/**
 * The proxy listener's request lifecycle: normalize → route → rewrite/access (plugins) →
 * terminator (a plugin's answer, or the proxy to the service) → header_filter/body_filter
 * while streaming → log. Every failure goes through one path, `fail`: a GatewayError becomes
 * its JSON answer, anything else a logged 500.
 */
export function createProxyHandler(deps: ProxyHandlerDeps) {
  const trusted = createTrustedIps([...deps.trustedIps]);
  const pdkOptions = { logger: deps.logger, maxBodySize: deps.clientMaxBodySize };
  const startRequest = requestStarter(trusted, deps.realIpHeader, deps.realIpRecursive);
  const createContext = (req: IncomingMessage, res: ServerResponse): RequestContext => startRequest(req, res, deps.getState());
  const { fail, logUpstreamFailure } = errorAnswer(deps.logger);

  function route(ctx: RequestContext, internal = false) {
    // Built field by field rather than with conditional spreads: one object per request, and
    // the SNI read once (it is absent on nearly every plain HTTP request).
    const request: { -readonly [K in keyof RouteRequest]: RouteRequest[K] } = { method: ctx.req.method ?? 'GET', path: ctx.path, host: ctx.host, port: ctx.port, headers: ctx.req.headers, scheme: ctx.scheme };
    const sni = sniOf(ctx.req);
    if (sni !== undefined) request.sni = sni;
    if (internal) request.internal = true;
    const match = ctx.state.router.match(request);
    if (!match) throw new GatewayError('NO_ROUTE');
    ctx.match = match;
    if (needsHttps(ctx, trusted) && match.route.https_redirect_status_code === 426) throw new GatewayError('HTTPS_REQUIRED');
    return match;
  }

  /**
   * The routed request's plugin run, undefined when its route has none. Made before rewrite so
   * a plugin failing there still gets its error answer and log phase.
   */
  function pluginRunFor(ctx: RequestContext): PluginRun | undefined {
    const match = ctx.match;
    if (!match) throw new GatewayError('NO_ROUTE');
    const chain = ctx.state.plugins.forRoute(match.route, match.service);
    return chain.empty ? undefined : new PluginRun(ctx, chain, new RequestPdk(ctx, pdkOptions), deps.logger);
  }

  async function proxy(ctx: RequestContext, run: PluginRun | undefined, redirects: number): Promise<void> {
    const body = requestBody(ctx, deps.clientMaxBodySize);
    const cancel = new UpstreamCancel();
    // One listener serves the whole exchange: a client that leaves early cancels the upstream
    // request (or its body, once streaming), and the close after a finished response ends it.
    // `on`, not `once`: a response closes once, and `once` wraps (and binds) the listener anew
    // for every request.
    const closed = new Promise<void>((resolve) => {
      ctx.res.on('close', () => {
        if (!ctx.res.writableFinished) cancel.abort(new Error('client closed the connection'));
        resolve();
      });
    });
    // Held for header_filter (and the response object the later phases read) only when a plugin
    // has such a phase; else the head goes out as it arrives, with access' header edits applied.
    // A redirected request's response is also read by the outer route's log phase: held then.
    const held = run !== undefined && (run.hasResponsePhase || redirects > 0);
    const writer = new ResponseWriter(ctx, (head) => writeProxiedHead(ctx, head, ctx.responseEdits), held);
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
    if (held && writer.head) {
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
    let tail: DetachedStream | undefined;
    const socket = h2Connection(req) ?? req.socket;
    try {
      try {
        if (deps.isStopping()) res.setHeader('connection', 'close');
        ctx = createContext(req, res);
        route(ctx);
        if (redirectToHttps(ctx, trusted)) return;
      } catch (error) {
        return await fail(ctx, res, undefined, error);
      }
      tail = await serve(ctx, 0);
    } finally {
      if (tail === undefined) deps.observer?.done(ctx, req, res, socket, false);
      else tail.handBack(deps.observer?.later(ctx, req, res, socket, false));
    }
  }

  /**
   * A routed request from the plugins on: rewrite/access, then exit, terminator or proxy, then
   * log. A stream that outlived its request (see `TerminatorExchange.detached`) comes back as a
   * tail: its log phase runs at the stream's end, holding the plugin run only if a plugin has
   * a log phase.
   */
  async function serve(ctx: RequestContext, redirects: number): Promise<DetachedStream | undefined> {
    let run: PluginRun | undefined;
    let tail: DetachedStream | undefined;
    try {
      run = pluginRunFor(ctx);
      if (run) {
        // Awaited only when pending: `await undefined` still costs a microtask turn.
        const rewriting = run.rewrite();
        if (rewriting) await rewriting;
        const accessing = ctx.exit ? undefined : run.access();
        if (accessing) await accessing;
      }
      if (ctx.exit) await respond(ctx, run, ctx.exit.status, { ...ctx.exit.headers }, ctx.exit.body, 'exit');
      else if (ctx.terminator) tail = await terminate(ctx, run, ctx.terminator, redirects === 0);
      else await proxy(ctx, run, redirects);
    } catch (error) {
      await fail(ctx, ctx.res, run, error);
    }
    if (tail !== undefined) {
      if (run?.hasLog === true) tail.logPhase = run;
      return tail;
    }
    const logging = run?.log();
    if (logging) await logging;
    return undefined;
  }

  /**
   * The terminator serves the request; a stream that detaches hands its end back as a tail
   * (only offered to requests served directly: an X-Accel-Redirect's outer request awaits).
   */
  async function terminate(ctx: RequestContext, run: PluginRun | undefined, terminator: Terminator, detachable: boolean): Promise<DetachedStream | undefined> {
    let tail: DetachedStream | undefined;
    const exchange = terminatorExchange(ctx, run);
    await terminator.handle(detachable ? { ...exchange, detached: () => (tail = new DetachedStream(deps.observer)) } : exchange);
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
    await (upgrade ? upgrades.serveUpgrade(inner, upgrade, redirects) : serve(inner, redirects));
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

  const upgrades = upgradeHandler({
    createContext,
    route,
    pluginRunFor,
    fail,
    logUpstreamFailure,
    terminatorExchange,
    accelRedirect,
    needsHttps: (ctx) => needsHttps(ctx, trusted),
    upstreamRequest: (ctx, withPlugins) => buildUpstreamRequest(ctx, trusted, null, { upgrade: true, withPlugins }),
    upstream: deps.upstream,
    trackUpgrade: deps.trackUpgrade,
    observer: deps.observer,
  });

  return {
    request: (req: IncomingMessage, res: ServerResponse): void => void handle(req, res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer): void => void upgrades.handleUpgrade(req, socket, head),
  };
}
