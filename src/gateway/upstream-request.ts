import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { upstreamRequestHeaders, type TrustedIps } from '../proxy/index.ts';
import type { HashInputs, UpstreamRequest } from '../proxy/types.ts';
import { buildUpstreamPath } from '../router/upstream-path.ts';
import { BodyLimit } from './body-limit.ts';
import type { RequestContext } from './context.ts';
import { GatewayError } from './errors.ts';
import { h2HasBody } from './h2-compat.ts';
import { applyHeaderEdits } from './header-edits.ts';

/** Consistent-hashing inputs; the query is parsed only if a `hash_on: query_arg` asks for it. */
class RequestHashInputs implements HashInputs {
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    readonly clientIp: string,
    readonly headers: IncomingMessage['headers'],
    readonly path: string,
    private readonly rawQuery: string,
    readonly uriCaptures: Readonly<Record<string, string>>,
    readonly consumerId: string | undefined,
  ) {}

  get query(): URLSearchParams {
    this.parsedQuery ??= new URLSearchParams(this.rawQuery);
    return this.parsedQuery;
  }
}

/**
 * The request to send upstream: path per strip_path/path_handling, forwarded headers, and,
 * when plugins ran, their edits (`kong.service.request.*`) and the consumer identity headers.
 */
export function buildUpstreamRequest(
  ctx: RequestContext,
  trusted: TrustedIps,
  body: Readable | null,
  options: { upgrade: boolean; withPlugins: boolean },
): UpstreamRequest {
  const match = ctx.match;
  const service = match?.service;
  if (!match || !service) throw new GatewayError('NO_SERVICE');
  const upstream = ctx.state.snapshot.upstreams.get(service.host);
  const edits = ctx.upstreamEdits;
  const upstreamPath = edits?.path ?? buildUpstreamPath(service, match.route, match, ctx.path);
  // A plugin's query replaces the client's; an emptied query drops the `?` too.
  const query = edits?.rawQuery ?? ctx.query;
  const keepMark = edits?.rawQuery === undefined ? ctx.hasQueryMark : query !== '';
  const pathAndQuery = keepMark ? `${upstreamPath}?${query}` : upstreamPath;
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
    upgrade: options.upgrade,
    dropIdentity: options.withPlugins,
  });
  let sentBody = body;
  if (options.withPlugins) {
    setConsumerHeaders(ctx, headers);
    if (edits) applyHeaderEdits(headers, edits.headers);
    const replaced = edits?.body ?? ctx.body;
    if (replaced !== undefined) {
      sentBody = Readable.from([replaced]);
      delete headers['transfer-encoding'];
      headers['content-length'] = String(replaced.length);
    }
  }
  return {
    method: edits?.method ?? ctx.req.method ?? 'GET',
    pathAndQuery,
    headers,
    body: sentBody,
    service,
    upstream,
    pki: ctx.state.snapshot,
    // Only an Upstream's balancer hashes; a plain service host needs no inputs.
    hashInputs:
      upstream === undefined
        ? undefined
        : new RequestHashInputs(ctx.clientIp, ctx.req.headers, ctx.path, ctx.query, match.uriCaptures.named, ctx.consumer?.id),
  };
}

/**
 * Kong's consumer headers, set from what the auth plugins established (the client's own were
 * not copied, see `dropIdentity`).
 */
function setConsumerHeaders(ctx: RequestContext, headers: Record<string, string | string[]>): void {
  const { consumer, credential } = ctx;
  if (consumer) {
    headers['x-consumer-id'] = consumer.id;
    if (consumer.username !== undefined) headers['x-consumer-username'] = consumer.username;
    if (consumer.custom_id !== undefined) headers['x-consumer-custom-id'] = consumer.custom_id;
  }
  const identifier = ctx.credentialIdentifier ?? credential?.id;
  if (identifier !== undefined) headers['x-credential-identifier'] = identifier;
  if (ctx.anonymous) headers['x-anonymous-consumer'] = 'true';
}

/**
 * The client's request body as a stream to forward, limited when a limit is configured; null
 * when there is none, or when a plugin already read it (it is then sent from `ctx.body`).
 */
export function requestBody(ctx: RequestContext, limit: number): Readable | null {
  const req = ctx.req;
  if (ctx.body !== undefined) return null;
  const length = req.headers['content-length'];
  const hasBody = h2HasBody(req) ?? (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0'));
  if (!hasBody) {
    req.resume();
    return null;
  }
  if (limit === 0) return req;
  if (length !== undefined && Number(length) > limit) throw new GatewayError('BODY_TOO_LARGE');
  const limited = new BodyLimit(limit);
  req.on('error', (error) => limited.destroy(error));
  return req.pipe(limited);
}
