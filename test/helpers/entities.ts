/**
 * Services and routes built by hand (for unit tests and benchmarks that skip the loader), with
 * the fields Kong defaults filled in as the loader fills them, so each caller spells out only
 * what matters to it. config-load.test.ts checks these defaults against the loader's.
 */
import type { Route, Service } from '../../src/config/types.ts';

/**
 * A service; `id` and `host` have no default. `port` is 80 whatever the protocol (Kong's
 * schema default): pass it with `https` and friends.
 */
export function serviceWith(fields: Pick<Service, 'id' | 'host'> & Partial<Service>): Service {
  return {
    protocol: 'http',
    port: 80,
    retries: 5,
    connect_timeout: 60000,
    write_timeout: 60000,
    read_timeout: 60000,
    enabled: true,
    tags: [],
    ...fields,
  };
}

/** A route; `id` and `created_at` (its position in the file, a router tie-break) have no default. */
export function routeWith(fields: Pick<Route, 'id' | 'created_at'> & Partial<Route>): Route {
  return {
    protocols: ['http', 'https'],
    strip_path: true,
    preserve_host: false,
    regex_priority: 0,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    request_buffering: true,
    response_buffering: true,
    tags: [],
    ...fields,
  };
}
