import type { IncomingHttpHeaders } from 'node:http';
import type { Snapshot } from '../config/types.ts';
import type { RuntimeState } from '../gateway/state.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { Hub } from '../pubsub/hub.ts';
import type { RequestBody } from './body.ts';

/**
 * The shapes an Admin API endpoint is written against. An endpoint is a plain function from
 * an {@link AdminRequest} to an {@link AdminReply} (or a thrown `AdminError`), registered in
 * the route table (`src/admin/routes.ts`) as `{ method, pattern, handler }`:
 *
 * ```ts
 * export const metricsRoutes: AdminRoute[] = [
 *   { method: 'GET', pattern: '/metrics', handler: async () => ({ status: 200, text: await render(), contentType: 'text/plain' }) },
 * ];
 * ```
 */

/** What the admin endpoints may use from the running gateway. */
export interface AdminDeps {
  readonly nodeId: string;
  readonly getState: () => RuntimeState;
  readonly connections: () => number;
  readonly hub: Hub;
  /** The enabled plugins: `POST /config` validates against them, `/schemas/plugins/*` serves theirs. */
  readonly registry: PluginRegistry;
  /** Swaps in a new config (Gateway.reload); throws, keeping the old one, when a plugin rejects it. */
  readonly reload: (snapshot: Snapshot, text: string) => void;
  readonly logger: Logger;
  /** Largest request body in bytes (`admin_max_body_size`); 0 = unlimited. */
  readonly maxBodySize: number;
  /** Undefined when metrics are off (`/metrics` then answers 404). */
  readonly metrics: GatewayMetrics | undefined;
}

export interface AdminRequest {
  readonly method: string;
  /** Decoded path without the query, trailing slash removed: `/services/orders`. */
  readonly path: string;
  /** Named pattern segments, decoded: `{ service: 'orders' }` for `/services/:service`. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The parsed body of POST/PUT/PATCH; `{ kind: 'none' }` otherwise. */
  readonly body: RequestBody;
  /** The runtime state when the request arrived: one request sees one config. */
  readonly state: RuntimeState;
  readonly deps: AdminDeps;
}

export interface AdminReply {
  readonly status: number;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as is (with `contentType`), instead of `body`. */
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type AdminHandler = (req: AdminRequest) => AdminReply | Promise<AdminReply>;

export interface AdminRoute {
  /** `GET`, `POST`, ...; HEAD is served by the GET handler. */
  readonly method: string;
  /** `/services/:service/routes`: `:name` segments match one path segment. */
  readonly pattern: string;
  readonly handler: AdminHandler;
}
