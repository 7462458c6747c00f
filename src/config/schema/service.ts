import { Type } from '@sinclair/typebox';
import { BaseFields, entity, ForeignRef, ListOf, OneOf, Port, PROTOCOLS, Timeout, Uuid } from './common.ts';
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
    tls_verify_depth: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
    /** A `certificates` entity (id, or `{id}`) presented to the upstream for mutual TLS. */
    client_certificate: Type.Optional(ForeignRef),
    /** Ids of `ca_certificates` entities: the trust store for `tls_verify` (system store when unset). */
    ca_certificates: Type.Optional(Type.Array(Uuid)),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { routes: ListOf(ServiceRouteEntity.schema), plugins: ListOf(ServicePluginEntity.schema) },
);

export const ServiceSchema = ServiceEntity.schema;
