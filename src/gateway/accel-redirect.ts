/**
 * nchan's X-Accel-Redirect: an upstream answers a proxied request with
 * `X-Accel-Redirect: /internal/path?args`, the gateway drops that answer and serves the same
 * client request (method, headers, body, and for a WebSocket the same upgrade) again on the
 * internal route the target matches. This file builds the redirected request's context; the
 * proxy handler routes and serves it.
 *
 * @example
 *   const { inner, url } = accelRedirectContext(ctx, writer.redirect, redirects + 1);
 *   route(inner, true); // internal routes only (404 otherwise)
 *   ctx.req.url = url;
 */
import { normalizePath, splitRequestTarget } from '../router/normalize.ts';
import type { RequestContext } from './context.ts';
import { GatewayError } from './errors.ts';

/** nginx's limit on internal redirects per request (then "rewrite or internal redirection cycle"). */
export const MAX_INTERNAL_REDIRECTS = 10;

/**
 * The context of the redirected request. The target's query replaces the client's when it has
 * one, but the client's `last_event_id` stays unless the target sets it (nginx would drop it:
 * slact/nchan#451); without a query in the target the client's is kept. `url` is what `req.url`
 * becomes once the target is routed, as nginx's `$uri`/`$args` do. Throws past
 * {@link MAX_INTERNAL_REDIRECTS}.
 */
export function accelRedirectContext(ctx: RequestContext, target: string, redirects: number): { inner: RequestContext; url: string } {
  if (redirects > MAX_INTERNAL_REDIRECTS) throw new GatewayError('INTERNAL', { detail: 'internal redirection cycle' });
  const split = splitRequestTarget(target.trim());
  let { query, hasQueryMark } = split.hasQueryMark ? split : ctx;
  if (split.hasQueryMark) {
    const own = new URLSearchParams(split.query);
    const lastEventId = new URLSearchParams(ctx.query).get('last_event_id');
    if (lastEventId !== null && !own.has('last_event_id')) {
      query = `${query}${query === '' ? '' : '&'}last_event_id=${encodeURIComponent(lastEventId)}`;
      hasQueryMark = true;
    }
  }
  const inner: RequestContext = {
    id: ctx.id,
    startedAt: ctx.startedAt,
    req: ctx.req,
    res: ctx.res,
    state: ctx.state,
    scheme: ctx.scheme,
    clientIp: ctx.clientIp,
    path: normalizePath(split.path),
    query,
    hasQueryMark,
    host: ctx.host,
    port: ctx.port,
    shared: {},
  };
  return { inner, url: hasQueryMark ? `${split.path}?${query}` : split.path };
}
