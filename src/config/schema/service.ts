import { Type } from '@sinclair/typebox';
import { BaseFields, entity, ListOf, OneOf, Port, PROTOCOLS, Timeout } from './common.ts';
import { ServicePluginEntity } from './plugin.ts';
import { ServiceRouteEntity } from './route.ts';

/**
 * Services. `url` is Kong's write-only shorthand for protocol/host/port/path; the loader
 * expands it. `protocol` and `port` have no schema default because they depend on each other
 * and on `url` (port 80, or 443 for https/grpcs/tls/wss).
 */
export const ServiceEntity = entity(
  'service',
  {
    ...BaseFields,
    name: Type.Optional(Type.String({ minLength: 1 })),
    url: Type.Optional(Type.String({ minLength: 1 })),
    protocol: Type.Optional(OneOf(PROTOCOLS, { description: 'default http' })),
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Port),
    path: Type.Optional(Type.String({ minLength: 1 })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 32767, default: 5 })),
    connect_timeout: Type.Optional(Timeout),
    write_timeout: Type.Optional(Timeout),
    read_timeout: Type.Optional(Timeout),
    tls_verify: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { routes: ListOf(ServiceRouteEntity.schema), plugins: ListOf(ServicePluginEntity.schema) },
);

export const ServiceSchema = ServiceEntity.schema;
