/**
 * Routes with `protocols: [https]` reached over plain HTTP (Kong's `https_redirect_status_code`):
 * 426 "Please use HTTPS protocol" with Kong's headers, or a redirect to the https URL.
 *
 * @example
 *   if (needsHttps(ctx, trusted) && ctx.match.route.https_redirect_status_code === 426) throw new GatewayError('HTTPS_REQUIRED');
 *   if (redirectToHttps(ctx, trusted)) return; // answered 301/302/307/308
 */
import type { TrustedIps } from '../proxy/index.ts';
import type { RequestContext } from './context.ts';

/** What Kong sends with its 426 "Please use HTTPS protocol". */
export const KONG_426_HEADERS: Readonly<Record<string, string>> = { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' };

/**
 * An https-only route reached over plain HTTP: the real connection decides, or, as in Kong, a
 * trusted peer's `X-Forwarded-Proto: https` (a TLS-terminating load balancer in front).
 */
export function needsHttps(ctx: RequestContext, trusted: TrustedIps): boolean {
  if (!ctx.match?.httpsRedirect) return false;
  const forwarded = ctx.req.headers['x-forwarded-proto'];
  return !(typeof forwarded === 'string' && forwarded.toLowerCase() === 'https' && trusted.isTrusted(ctx.req.socket.remoteAddress ?? ''));
}

/** An https-only route reached over plain HTTP with a redirect code: answer the redirect. */
export function redirectToHttps(ctx: RequestContext, trusted: TrustedIps): boolean {
  const match = ctx.match;
  if (match === undefined || !needsHttps(ctx, trusted)) return false;
  ctx.res.writeHead(match.route.https_redirect_status_code, { location: `https://${ctx.host}${ctx.req.url ?? '/'}`, 'content-length': 0 });
  ctx.res.end();
  return true;
}
