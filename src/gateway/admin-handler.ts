import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusBody } from '../admin/node-info.ts';
import type { RuntimeState } from './state.ts';

/**
 * The admin listener is served by the Admin API (`src/admin/`); this file keeps the status
 * listener's two answers, which share `/status`'s body with it.
 */
export { createAdminHandler } from '../admin/handler.ts';
export type { AdminDeps } from '../admin/types.ts';

/**
 * The status listener (Kong's `status_listen`): `GET /status` and the readiness probe
 * `GET /status/ready`, which turns 503 once the node starts draining.
 */
export function createStatusHandler(getState: () => RuntimeState, isStopping: () => boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/status/ready') {
      return isStopping() ? json(res, 503, { message: 'draining', code: 'SHUTTING_DOWN' }) : json(res, 200, { message: 'ready' });
    }
    if (req.method === 'GET' && path === '/status') return json(res, 200, statusBody(getState()));
    json(res, 404, { message: 'Not found', code: 'NOT_FOUND' });
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
