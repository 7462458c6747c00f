/**
 * A request's context as the lifecycle starts it: a request id, the normalized path, the Host
 * split into host and port, the scheme of the real connection and the client address (the
 * real-IP header counts only from trusted peers).
 *
 * @example
 *   const start = requestStarter(trusted, 'x-real-ip', false);
 *   const ctx = start(req, res, deps.getState());
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { resolveClientIp, type TrustedIps } from '../proxy/index.ts';
import { normalizePath, splitRequestTarget } from '../router/normalize.ts';
import type { RequestContext } from './context.ts';
import type { RuntimeState } from './state.ts';

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

export type StartRequest = (req: IncomingMessage, res: ServerResponse, state: RuntimeState) => RequestContext;

export function requestStarter(trusted: TrustedIps, realIpHeader: string, realIpRecursive: boolean): StartRequest {
  return (req, res, state) => {
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
      clientIp: resolveClientIp(peer, req.headers, trusted, realIpHeader, realIpRecursive),
      path,
      query,
      hasQueryMark,
      host,
      port,
      shared: {},
    };
  };
}

/** The TLS SNI the client sent, for routes with `snis`. */
export function sniOf(req: IncomingMessage): string | undefined {
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
