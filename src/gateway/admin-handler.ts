import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { VERSION } from '../version.ts';
import type { RuntimeState } from './state.ts';

export interface AdminDeps {
  readonly nodeId: string;
  readonly getState: () => RuntimeState;
  readonly connections: () => number;
}

/**
 * The admin listener's answers that the gateway core provides (`GET /`, `GET /status`).
 * The full Kong-shaped Admin API is built on this listener later.
 */
export function createAdminHandler(deps: AdminDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') {
      return json(res, 200, { version: VERSION, tagline: 'Welcome to sluice', node_id: deps.nodeId, hostname: hostname() });
    }
    if (req.method === 'GET' && path === '/status') {
      const { snapshot } = deps.getState();
      const memory = process.memoryUsage();
      return json(res, 200, {
        configuration_hash: snapshot.hash,
        server: { connections_active: deps.connections() },
        memory: { rss: memory.rss, heap_used: memory.heapUsed },
      });
    }
    json(res, 404, { message: 'Not found', code: 'NOT_FOUND' });
  };
}

/** The internal listener: the publisher API lands here with the pub/sub issue. */
export function internalNotFound(_req: IncomingMessage, res: ServerResponse): void {
  json(res, 404, { message: 'Not found', code: 'NOT_FOUND' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
