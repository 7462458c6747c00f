/** Builders for router tests: routes and requests with Kong's defaults filled in. */
import type { Route, Service } from '../../src/config/types.ts';
import type { RouteRequest } from '../../src/router/types.ts';

let createdAt = 0;

export function route(name: string, fields: Partial<Route> = {}): Route {
  createdAt += 1;
  return {
    id: `id-${name}`,
    name,
    service: 'svc',
    protocols: ['http', 'https'],
    strip_path: true,
    preserve_host: false,
    regex_priority: 0,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    request_buffering: true,
    response_buffering: true,
    created_at: createdAt,
    tags: [],
    ...fields,
  };
}

export function service(id: string, fields: Partial<Service> = {}): Service {
  return {
    id,
    name: id,
    protocol: 'http',
    host: 'upstream.test',
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

export const services: ReadonlyMap<string, Service> = new Map([['svc', service('svc')]]);

export function request(fields: Partial<RouteRequest> = {}): RouteRequest {
  return { method: 'GET', path: '/', host: 'example.com', port: 80, headers: {}, scheme: 'http', ...fields };
}
