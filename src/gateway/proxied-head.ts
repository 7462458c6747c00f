/**
 * The head of a proxied response as the client gets it: the upstream's headers minus hop-by-hop
 * ones, the gateway's `Via`, and Kong's `X-Kong-Upstream-Latency` / `X-Kong-Proxy-Latency`
 * (replacing whatever the upstream sent).
 *
 * @example
 *   writeProxiedHead(ctx, head); // no plugins: a flat header list, straight out
 *   writeProxiedHead(ctx, head, ctx.responseEdits); // plugins, none with a response phase
 *   ctx.response = { status: head.status, headers: proxiedHeaders(ctx, head), source: 'service' };
 */
import { downstreamResponseHeaderList, downstreamResponseHeaders, type UpstreamResponseHead } from '../proxy/index.ts';
import { VERSION } from '../version.ts';
import type { RequestContext } from './context.ts';
import { applyHeaderEditsToList, type HeaderEdit, type OutHeaders } from './header-edits.ts';

const VIA = `1.1 sluice/${VERSION}`;

/** Set by the gateway on every proxied response, replacing whatever the upstream sent. */
const LATENCY_HEADERS: ReadonlySet<string> = new Set(['x-kong-upstream-latency', 'x-kong-proxy-latency']);

/**
 * Fast path: the upstream head straight to the client as a flat list. With plugins that have
 * nothing to run on the response (no header_filter, body_filter or log phase), the header
 * edits they made in rewrite/access apply to that list (`edits`).
 */
export function writeProxiedHead(ctx: RequestContext, head: UpstreamResponseHead, edits?: readonly HeaderEdit[]): void {
  const headers = downstreamResponseHeaderList(head.headers, VIA, LATENCY_HEADERS);
  headers.push('x-kong-upstream-latency', String(Math.round(head.latencyMs)), 'x-kong-proxy-latency', String(proxyLatency(ctx, head)));
  if (edits !== undefined) applyHeaderEditsToList(headers, edits);
  ctx.res.writeHead(head.status, headers);
}

/** With plugins: the same headers as an object header_filter can change. */
export function proxiedHeaders(ctx: RequestContext, head: UpstreamResponseHead): OutHeaders {
  const headers = downstreamResponseHeaders(head.headers, { via: VIA });
  headers['x-kong-upstream-latency'] = String(Math.round(head.latencyMs));
  headers['x-kong-proxy-latency'] = String(proxyLatency(ctx, head));
  return headers;
}

function proxyLatency(ctx: RequestContext, head: UpstreamResponseHead): number {
  return Math.max(0, Math.round(performance.now() - ctx.startedAt - head.latencyMs));
}
