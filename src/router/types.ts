import type { Route, Service } from '../config/types.ts';

/** What the router looks at. `path` is already normalized (see `normalize.ts`). */
export interface RouteRequest {
  readonly method: string;
  readonly path: string;
  /** Host header value, lower-cased, without the port. */
  readonly host: string;
  /** Port the client connected to (used by `host:port` route hosts). */
  readonly port: number;
  /** Lower-cased header name → value(s). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** `https` when the connection is TLS. */
  readonly scheme: 'http' | 'https';
  readonly sni?: string;
}

export interface UriCaptures {
  /** Positional groups, `unnamed[0]` being the whole match. */
  readonly unnamed: readonly string[];
  readonly named: Readonly<Record<string, string>>;
}

export interface RouteMatch {
  readonly route: Route;
  readonly service?: Service;
  /** The route path (prefix, or the regex's whole match) that matched, for strip_path. */
  readonly matchedPath?: string;
  readonly uriCaptures: UriCaptures;
}

/** A compiled, immutable route table. One per config snapshot. */
export interface Router {
  match(request: RouteRequest): RouteMatch | undefined;
  readonly size: number;
}
