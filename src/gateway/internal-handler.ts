import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createTrustedIps } from '../proxy/index.ts';
import { sendError } from './respond.ts';

export interface InternalAccess {
  /** CIDRs that may reach the internal listener at all. */
  readonly allow: readonly string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/**
 * The internal listener's gate: peer address in the allow-list, then the bearer token.
 * What sits behind it (the publisher API) arrives with the pub/sub issue; until then every
 * admitted request is a 404.
 */
export function createInternalHandler(access: InternalAccess) {
  const allowed = createTrustedIps(access.allow);
  const expected = access.token === undefined ? undefined : digest(access.token);

  return (req: IncomingMessage, res: ServerResponse): void => {
    if (!allowed.isTrusted(req.socket.remoteAddress ?? '')) return sendError(res, 'FORBIDDEN');
    if (expected && !bearerMatches(req.headers.authorization, expected)) {
      return sendError(res, 'UNAUTHORIZED', undefined, { 'www-authenticate': 'Bearer realm="sluice-internal"' });
    }
    sendError(res, 'NOT_FOUND');
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
