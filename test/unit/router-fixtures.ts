/** Builders for router tests: routes and requests with Kong's defaults filled in. */
import type { Route, Service } from '../../src/config/types.ts';
import type { RouteRequest } from '../../src/router/types.ts';
import { routeWith, serviceWith } from '../helpers/entities.ts';

let createdAt = 0;

/** A route on service `svc`, later than every route built before it. */
export function route(name: string, fields: Partial<Route> = {}): Route {
  createdAt += 1;
  return routeWith({ id: `id-${name}`, name, service: 'svc', created_at: createdAt, ...fields });
}

export function service(id: string, fields: Partial<Service> = {}): Service {
  return serviceWith({ id, name: id, host: 'upstream.test', ...fields });
}

export const services: ReadonlyMap<string, Service> = new Map([['svc', service('svc')]]);

export function request(fields: Partial<RouteRequest> = {}): RouteRequest {
  return { method: 'GET', path: '/', host: 'example.com', port: 80, headers: {}, scheme: 'http', ...fields };
}
