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
  /**
   * True for an upstream's `X-Accel-Redirect`: then only `internal` routes match, otherwise
   * only the others. Client requests leave it unset.
   */
  readonly internal?: boolean;
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
  /**
   * True when the route accepts only https-family protocols (`https`, `grpcs`, `wss`) and the
   * request came over plain http. Kong matches such a route anyway (protocols are not a match
   * criterion) and then answers with `route.https_redirect_status_code` (426 "Please use
   * HTTPS protocol", or a 301/302/307/308 redirect to `https://`); the gateway does the same
   * instead of proxying. Absent or false otherwise.
   */
  readonly httpsRedirect?: boolean;
}

/** A compiled, immutable route table. One per config snapshot. */
export interface Router {
  match(request: RouteRequest): RouteMatch | undefined;
  readonly size: number;
}
