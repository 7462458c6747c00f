import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Consumer, Credential } from '../config/types.ts';
import type { Terminator } from '../plugins/pdk/types.ts';
import type { RouteMatch } from '../router/types.ts';
import type { HeaderEdit, OutHeaders } from './header-edits.ts';
import type { RuntimeState } from './state.ts';

/** The response as plugins see it in header_filter / body_filter / log. */
export interface ResponseState {
  status: number;
  headers: OutHeaders;
  readonly source: 'service' | 'exit' | 'error';
}

/** An answer a plugin gave with `kong.response.exit`. */
export interface PluginExit {
  readonly status: number;
  readonly headers: OutHeaders;
  readonly body: Buffer;
}

/** Changes plugins made to what goes upstream (`kong.service.request.*`). */
export interface UpstreamEdits {
  headers: HeaderEdit[];
  method?: string;
  path?: string;
  rawQuery?: string;
  body?: Buffer;
}

/**
 * One proxied request as it moves through the phases. Built once per request; the snapshot it
 * captured at the start (`state`) stays its view of the config even if a reload happens mid-way.
 * Fields below `match` are only touched when the route has plugins.
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
  /** Set when a plugin answered the request itself; the upstream is never called then. */
  exit?: PluginExit;
  /** The plugin that set `exit` (rate-limit refusals are counted by it). */
  exitedBy?: string;
  /** Time until the upstream's response head, once there is one (metrics, access log). */
  upstreamLatencyMs?: number;
  /** Set when a plugin takes the request over after access (pub/sub); replaces the proxy. */
  terminator?: Terminator;
  consumer?: Consumer;
  credential?: Credential;
  anonymous?: boolean;
  /** X-Credential-Identifier, when the auth plugin names one other than the credential id. */
  credentialIdentifier?: string;
  upstreamEdits?: UpstreamEdits;
  /** The request body, once a plugin asked for it (it is then sent upstream from here). */
  body?: Buffer;
  /** Response headers plugins set before there was a response (rewrite/access). */
  responseEdits?: HeaderEdit[];
  /** The response while header_filter, body_filter and log run. */
  response?: ResponseState;
  /** Shared between plugins of one request, as Kong's `kong.ctx.shared`. */
  readonly shared: Record<string, unknown>;
}
