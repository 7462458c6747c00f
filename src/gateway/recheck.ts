import { ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.ts';
import { RequestPdk, type PdkOptions } from '../plugins/pdk/request-pdk.ts';
import type { StreamShape } from '../plugins/pdk/types.ts';
import type { AdmittedRequest } from './admitted-request.ts';
import type { RequestContext } from './context.ts';
import { PluginRun } from './plugin-run.ts';
import type { RuntimeState } from './state.ts';

/** Why a reload closes a stream (the EndReasons a re-check can give). */
export type RecheckReason = 'ROUTE_REMOVED' | 'ROUTE_CHANGED' | 'RECHECK_FAILED';

export type Verdict = { readonly keep: true } | { readonly keep: false; readonly reason: RecheckReason; readonly detail: string };

const KEEP: Verdict = { keep: true };

/** Route ids per state, built once per snapshot on the first re-check. */
const routeIds = new WeakMap<RuntimeState, ReadonlySet<string>>();

function hasRoute(state: RuntimeState, id: string): boolean {
  let ids = routeIds.get(state);
  if (!ids) routeIds.set(state, (ids = new Set(state.snapshot.routes.map((route) => route.id))));
  return ids.has(id);
}

/**
 * Would `state` still admit the stream opened by `admitted` (what the stream kept of its
 * request, see admitted-request.ts)? The stream's route must still exist (by id: named
 * routes have stable derived ids) and the request must still route to it; then the route's new
 * chain runs its re-check (auth, acl, ip-restriction, ... see `PluginHandler.recheck`) against
 * the recorded request (method, path, headers, query, client ip) in a fresh context whose
 * effects are dropped: no body (subscribers send none), no response, no log phase, and plugins
 * without `recheck` (rate-limiting) are skipped, so re-checks count nothing. Last, the
 * subscriber plugin must still serve the same channels over the same transport.
 *
 * ```ts
 * const verdict = await recheckStream(admittedRequest(ctx), { channels: ['chat:lobby'], transport: 'eventsource' }, newState, pdkOptions, logger);
 * if (!verdict.keep) subscription.end(verdict.reason);
 * ```
 */
export async function recheckStream(admitted: AdmittedRequest, shape: StreamShape, state: RuntimeState, pdk: PdkOptions, logger: Logger): Promise<Verdict> {
  const route = admitted.route;
  if (route === undefined || !hasRoute(state, route.id)) return { keep: false, reason: 'ROUTE_REMOVED', detail: 'the route is no longer configured' };
  const { req } = admitted;
  const match = state.router.match({
    method: req.method ?? 'GET',
    path: admitted.path,
    host: admitted.host,
    port: admitted.port,
    headers: req.headers,
    scheme: admitted.scheme,
    ...(route.internal === true ? { internal: true } : {}),
  });
  if (match === undefined || match.route.id !== route.id || match.httpsRedirect === true) {
    return { keep: false, reason: 'ROUTE_CHANGED', detail: 'the request no longer routes to this route' };
  }
  const ctx: RequestContext = {
    id: admitted.id,
    startedAt: performance.now(),
    req,
    // Never written: plugins answer through ctx.exit, which is read below and dropped.
    res: new ServerResponse(req),
    state,
    scheme: admitted.scheme,
    clientIp: admitted.clientIp,
    path: admitted.path,
    query: admitted.query,
    hasQueryMark: admitted.hasQueryMark,
    host: admitted.host,
    port: admitted.port,
    match,
    // Subscriber requests carry no body, and the original one was consumed long ago.
    body: Buffer.alloc(0),
    shared: {},
  };
  const run = new PluginRun(ctx, state.plugins.forRoute(match.route, match.service), new RequestPdk(ctx, pdk), logger);
  try {
    await run.recheck();
  } catch (error) {
    logger.warn({ err: error, request_id: admitted.id, code: 'RECHECK_FAILED' }, 're-check of an open stream failed; closing it');
    return { keep: false, reason: 'RECHECK_FAILED', detail: 'a plugin failed' };
  }
  if (ctx.exit) return { keep: false, reason: 'RECHECK_FAILED', detail: `the route's plugins now answer ${ctx.exit.status}` };
  const now = ctx.terminator?.stream;
  if (now === undefined || now.transport !== shape.transport || !sameList(now.channels, shape.channels)) {
    return { keep: false, reason: 'ROUTE_CHANGED', detail: 'the route now serves other channels or transports' };
  }
  return KEEP;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
