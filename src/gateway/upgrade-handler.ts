/**
 * The proxy listener's WebSocket upgrade path: the same lifecycle as a request (route →
 * rewrite/access → a plugin's answer, the terminator, or the pass-through to the service),
 * without a log phase. Node hands an upgrade over without a response object; one bound to the
 * socket keeps a single error path and lets plugins answer an upgrade like any other request.
 *
 * @example
 *   const upgrades = upgradeHandler({ createContext, route, pluginRunFor, fail, ... });
 *   server.on('upgrade', (req, socket, head) => void upgrades.handleUpgrade(req, socket, head));
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestObserver } from '../observability/request-observer.ts';
import type { TerminatorExchange } from '../plugins/pdk/types.ts';
import type { UpstreamClient, UpstreamRequest } from '../proxy/index.ts';
import type { RequestContext } from './context.ts';
import { respond, type ErrorAnswer } from './error-answer.ts';
import { GatewayError } from './errors.ts';
import type { PluginRun } from './plugin-run.ts';
import { writeErrorToSocket } from './respond.ts';

/** The client side of a WebSocket upgrade, as Node's `'upgrade'` event hands it over. */
export type ClientUpgrade = { readonly socket: Duplex; readonly head: Buffer };

/** The parts of the request lifecycle the upgrade path shares (see proxy-handler.ts). */
export interface UpgradeLifecycle {
  readonly createContext: (req: IncomingMessage, res: ServerResponse) => RequestContext;
  readonly route: (ctx: RequestContext) => unknown;
  readonly pluginRunFor: (ctx: RequestContext) => PluginRun | undefined;
  readonly fail: ErrorAnswer['fail'];
  readonly logUpstreamFailure: ErrorAnswer['logUpstreamFailure'];
  readonly terminatorExchange: (ctx: RequestContext, run: PluginRun | undefined, upgrade?: ClientUpgrade) => TerminatorExchange;
  readonly accelRedirect: (ctx: RequestContext, run: PluginRun | undefined, target: string, redirects: number, upgrade?: ClientUpgrade) => Promise<void>;
  readonly needsHttps: (ctx: RequestContext) => boolean;
  readonly upstreamRequest: (ctx: RequestContext, withPlugins: boolean) => UpstreamRequest;
  readonly upstream: UpstreamClient;
  readonly trackUpgrade: (socket: Duplex) => void;
  readonly observer?: RequestObserver | undefined;
}

export interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** For X-Accel-Redirect: a routed upgrade served again on the internal route. */
  serveUpgrade(ctx: RequestContext, upgrade: ClientUpgrade, redirects: number): Promise<void>;
}

export function upgradeHandler(life: UpgradeLifecycle): UpgradeHandler {
  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let ctx: RequestContext | undefined;
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    try {
      await upgrade(req, res, socket, head, (created) => (ctx = created));
    } finally {
      life.observer?.done(ctx, req, res, socket, true);
    }
  }

  async function upgrade(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer, created: (ctx: RequestContext) => void): Promise<void> {
    let ctx: RequestContext | undefined;
    try {
      ctx = life.createContext(req, res);
      created(ctx);
      life.route(ctx);
      if (life.needsHttps(ctx)) throw new GatewayError('HTTPS_REQUIRED');
    } catch (error) {
      return life.fail(ctx, res, undefined, error);
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
      run = life.pluginRunFor(ctx);
      if (run) {
        await run.rewrite();
        if (!ctx.exit) await run.access();
      }
      if (ctx.exit) return await respond(ctx, run, ctx.exit.status, { ...ctx.exit.headers }, ctx.exit.body, 'exit');
      life.trackUpgrade(socket);
      if (ctx.terminator) return await ctx.terminator.handle(life.terminatorExchange(ctx, run, upgrade));
      ctx.res.detachSocket(socket);
      const request = life.upstreamRequest(ctx, run !== undefined);
      const result = await life.upstream.upgrade(request, { req: ctx.req, socket, head: upgrade.head, requestId: ctx.id });
      if (result.error !== undefined && result.status >= 502) life.logUpstreamFailure(ctx, result.error);
      if (result.redirect === undefined) return;
      // Nothing was written: the socket is the gateway's again, for the internal route's answer.
      ctx.res.assignSocket(socket);
      await life.accelRedirect(ctx, run, result.redirect, redirects + 1, upgrade);
    } catch (error) {
      if (ctx.res.socket) return life.fail(ctx, ctx.res, run, error);
      writeErrorToSocket(socket, error instanceof GatewayError ? error.code : 'INTERNAL');
    }
  }

  return { handleUpgrade, serveUpgrade };
}
