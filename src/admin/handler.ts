import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, type RequestBody } from './body.ts';
import { AdminError } from './errors.ts';
import { compileRoutes, type AdminRouter } from './router.ts';
import { ADMIN_ROUTES } from './routes.ts';
import type { AdminDeps, AdminReply, AdminRoute } from './types.ts';

/**
 * The admin listener's request handler: route (404 / 405), read the body of POST/PUT/PATCH
 * (413, 415, 400 for malformed JSON), run the endpoint, write its reply as JSON. Any error an
 * endpoint throws becomes Kong's error body; a bug becomes a logged 500, never a crash.
 *
 * ```ts
 * const admin = createAdminHandler(deps);            // the full table (src/admin/routes.ts)
 * createServer(admin).listen(8001, '127.0.0.1');
 * ```
 */

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function createAdminHandler(deps: AdminDeps, routes: readonly AdminRoute[] = ADMIN_ROUTES) {
  // Kong's `GET /endpoints`: every registered pattern, so it can never go stale.
  const endpoints: AdminRoute = {
    method: 'GET',
    pattern: '/endpoints',
    handler: () => ({ status: 200, body: { data: router.patterns.map(kongPattern), next: null } }),
  };
  const router: AdminRouter = compileRoutes([...routes, endpoints]);
  return (req: IncomingMessage, res: ServerResponse): void => {
    void serve(router, deps, req, res);
  };
}

async function serve(router: AdminRouter, deps: AdminDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') || '/' : rawPath;
  let reply: AdminReply;
  try {
    const { handler, params } = router.match(method, path);
    const body: RequestBody = BODY_METHODS.has(method) ? await readBody(req, deps.maxBodySize) : { kind: 'none' };
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    reply = await handler({ method, path, params, query, headers: req.headers, body, state: deps.getState(), deps });
  } catch (error) {
    reply = errorReply(error, deps, method, path);
  }
  send(res, reply);
}

function errorReply(error: unknown, deps: AdminDeps, method: string, path: string): AdminReply {
  if (error instanceof AdminError) {
    // An oversized body is left unread: close the connection rather than read it all.
    return { status: error.status, body: error.body, ...(error.code === 'BODY_TOO_LARGE' ? { headers: { connection: 'close' } } : {}) };
  }
  deps.logger.error({ event: 'admin_error', code: 'INTERNAL', method, path, err: error }, 'admin endpoint failed');
  const internal = new AdminError('INTERNAL');
  return { status: internal.status, body: internal.body };
}

function send(res: ServerResponse, reply: AdminReply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.text !== undefined) {
    payload = reply.text;
    headers['content-type'] = reply.contentType ?? 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined && reply.status !== 204 && reply.status !== 304) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** `/services/:id/routes` → Kong's spelling `/services/{id}/routes`. */
function kongPattern(pattern: string): string {
  return pattern.replace(/:(\w+)/g, '{$1}');
}
