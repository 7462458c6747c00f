import { Type } from '@sinclair/typebox';
import { BaseFields, entity, ForeignRef, ListOf, OneOf, PROTOCOLS } from './common.ts';
import { RoutePluginEntity } from './plugin.ts';

/** Routes, with Kong's defaults (protocols http+https, strip_path on, buffering on, 426). */

export const HTTPS_REDIRECT_CODES = [426, 301, 302, 307, 308] as const;

const RouteFields = {
  ...BaseFields,
  name: Type.Optional(Type.String({ minLength: 1 })),
  protocols: Type.Optional(Type.Array(OneOf(PROTOCOLS), { default: ['http', 'https'], minItems: 1 })),
  methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z]+$' }))),
  hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  paths: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 }))),
  snis: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  strip_path: Type.Optional(Type.Boolean({ default: true })),
  preserve_host: Type.Optional(Type.Boolean({ default: false })),
  regex_priority: Type.Optional(Type.Integer({ default: 0 })),
  path_handling: Type.Optional(OneOf(['v0', 'v1'] as const, { default: 'v0' })),
  https_redirect_status_code: Type.Optional(OneOf(HTTPS_REDIRECT_CODES, { default: 426 })),
  request_buffering: Type.Optional(Type.Boolean({ default: true })),
  response_buffering: Type.Optional(Type.Boolean({ default: true })),
  /** Sluice: reachable only as an X-Accel-Redirect target, never by a client request. */
  internal: Type.Optional(Type.Boolean({ default: false })),
};

const RouteChildren = { plugins: ListOf(RoutePluginEntity.schema) };

/** A route nested under a service (its `service` is the parent). */
export const ServiceRouteEntity = entity('route (nested in a service)', RouteFields, RouteChildren);
/** A top-level route; `service` is a name, an id or `{id}`. */
export const RouteEntity = entity('route', { ...RouteFields, service: Type.Optional(ForeignRef) }, RouteChildren);

export const RouteSchema = RouteEntity.schema;
