import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ServerResponse as HttpResponse } from 'node:http';
import { createTrustedIps } from '../proxy/index.ts';
import type { InternalPubsubHandler } from '../pubsub/publisher/index.ts';
import type { GatewayErrorCode } from './errors.ts';
import { sendError } from './respond.ts';

export interface InternalAccess {
  /** CIDRs that may reach the internal listener at all. */
  readonly allow: readonly string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/**
 * The internal listener: the peer address must be in the allow-list, then the bearer token
 * must match; behind that gate is nchan's publisher API (`/pub/<channel>`, HTTP and
 * WebSocket). Nothing on the proxy listener routes here: it is a different socket.
 */
export function createInternalHandler(access: InternalAccess, publisher: InternalPubsubHandler) {
  const allowed = createTrustedIps(access.allow);
  const expected = access.token === undefined ? undefined : digest(access.token);

  /** The gate's refusal, if any. */
  function refusal(req: IncomingMessage): { code: GatewayErrorCode; headers: Record<string, string> } | undefined {
    if (!allowed.isTrusted(req.socket.remoteAddress ?? '')) return { code: 'FORBIDDEN', headers: {} };
    if (expected && !bearerMatches(req.headers.authorization, expected)) {
      return { code: 'UNAUTHORIZED', headers: { 'www-authenticate': 'Bearer realm="sluice-internal"' } };
    }
    return undefined;
  }

  return {
    request(req: IncomingMessage, res: ServerResponse): void {
      const refused = refusal(req);
      if (refused) return sendError(res, refused.code, undefined, refused.headers);
      publisher.request(req, res);
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const refused = refusal(req);
      if (!refused) return publisher.upgrade(req, socket, head);
      const res = new HttpResponse(req);
      res.assignSocket(socket as Socket);
      res.once('finish', () => socket.end());
      sendError(res, refused.code, undefined, { ...refused.headers, connection: 'close' });
    },
  };
}

/** Compares digests, so the comparison takes the same time whatever the token's length. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
