import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteMatch } from '../router/types.ts';
import type { RuntimeState } from './state.ts';

/**
 * One proxied request as it moves through the phases. Built once per request; the snapshot it
 * captured at the start (`state`) stays its view of the config even if a reload happens mid-way.
 */
export interface RequestContext {
  readonly id: string;
  readonly startedAt: number;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly state: RuntimeState;
  readonly scheme: 'http' | 'https';
  /** Client address after `trusted_ips` / `real_ip_header` are applied. */
  readonly clientIp: string;
  /** Normalized request path (what the router saw and what goes upstream). */
  readonly path: string;
  /** Raw query string without `?`; `hasQueryMark` keeps a bare `?` as Kong does. */
  readonly query: string;
  readonly hasQueryMark: boolean;
  readonly host: string;
  readonly port: number;
  match?: RouteMatch;
  /** Set by a plugin (`response.exit`) or the gateway when the request is answered early. */
  exited: boolean;
  /** Shared between plugins of one request, as Kong's `kong.ctx.shared`. */
  readonly shared: Record<string, unknown>;
}
