/**
 * `GET /metrics` on the admin listener: the gateway's registry in Prometheus text format
 * (version 0.0.4), as Kong's prometheus plugin serves it on Kong's Admin API.
 *
 * ```ts
 * if (path === '/metrics') return serveMetrics(req, res, gateway.metrics);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayMetrics } from './metrics.ts';

export function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: GatewayMetrics | undefined): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return json(res, 405, { message: 'Method not allowed', code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
  }
  if (metrics === undefined) return json(res, 404, { message: 'Metrics are off on this node (metrics = off)', code: 'NOT_FOUND' });
  metrics.registry.metrics().then(
    (text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => json(res, 500, { message: `An unexpected error occurred: ${(error as Error)?.message ?? String(error)}`, code: 'INTERNAL' }),
  );
}

function json(res: ServerResponse, status: number, body: Record<string, string>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
