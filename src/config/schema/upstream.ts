import { Type } from '@sinclair/typebox';
import { BaseFields, entity, ForeignRef, ListOf, OneOf } from './common.ts';

/**
 * Upstreams (load-balanced virtual hosts) with Kong's health-check defaults, and their
 * targets. Every nested health-check object defaults to `{}` so its fields' defaults apply
 * even when the user wrote nothing.
 */

const Counter = (def: number) => Type.Optional(Type.Integer({ minimum: 0, maximum: 255, default: def }));
const Interval = Type.Optional(Type.Number({ minimum: 0, maximum: 65535, default: 0 }));
const Statuses = (def: number[]) => Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 999 }), { default: def }));
const CheckType = Type.Optional(OneOf(['http', 'https', 'tcp'] as const, { default: 'http' }));
const closed = { additionalProperties: false, default: {} } as const;

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const ActiveHealthcheckSchema = Type.Object(
  {
    type: CheckType,
    timeout: Type.Optional(Type.Number({ minimum: 0, maximum: 65535, default: 1 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, default: 10 })),
    http_path: Type.Optional(Type.String({ pattern: '^/', default: '/' })),
    https_sni: Type.Optional(Type.String({ minLength: 1 })),
    https_verify_certificate: Type.Optional(Type.Boolean({ default: true })),
    headers: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
    healthy: Type.Optional(
      Type.Object({ interval: Interval, http_statuses: Statuses([200, 302]), successes: Counter(0) }, closed),
    ),
    unhealthy: Type.Optional(
      Type.Object(
        {
          interval: Interval,
          http_statuses: Statuses([429, 404, 500, 501, 502, 503, 504, 505]),
          tcp_failures: Counter(0),
          timeouts: Counter(0),
          http_failures: Counter(0),
        },
        closed,
      ),
    ),
  },
  closed,
);

export const PassiveHealthcheckSchema = Type.Object(
  {
    type: CheckType,
    healthy: Type.Optional(
      Type.Object({ http_statuses: Statuses([...range(200, 208), 226, ...range(300, 308)]), successes: Counter(0) }, closed),
    ),
    unhealthy: Type.Optional(
      Type.Object(
        { http_statuses: Statuses([429, 500, 503]), tcp_failures: Counter(0), timeouts: Counter(0), http_failures: Counter(0) },
        closed,
      ),
    ),
  },
  closed,
);

export const HealthchecksSchema = Type.Object(
  {
    active: Type.Optional(ActiveHealthcheckSchema),
    passive: Type.Optional(PassiveHealthcheckSchema),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 100, default: 0 })),
  },
  closed,
);

export const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'] as const;
export const ALGORITHMS = ['round-robin', 'consistent-hashing', 'least-connections', 'latency'] as const;

const TargetFields = {
  ...BaseFields,
  target: Type.String({ minLength: 1, description: 'host[:port], port 8000 when omitted' }),
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: 100 })),
};

export const UpstreamTargetEntity = entity('target (nested in an upstream)', TargetFields, {});
export const TargetEntity = entity('target', { ...TargetFields, upstream: ForeignRef }, {});

export const UpstreamEntity = entity(
  'upstream',
  {
    ...BaseFields,
    name: Type.String({ minLength: 1 }),
    algorithm: Type.Optional(OneOf(ALGORITHMS, { default: 'round-robin' })),
    hash_on: Type.Optional(OneOf(HASH_ON, { default: 'none' })),
    hash_fallback: Type.Optional(OneOf(HASH_ON, { default: 'none' })),
    hash_on_header: Type.Optional(Type.String({ minLength: 1 })),
    hash_fallback_header: Type.Optional(Type.String({ minLength: 1 })),
    hash_on_cookie: Type.Optional(Type.String({ minLength: 1 })),
    hash_on_cookie_path: Type.Optional(Type.String({ pattern: '^/', default: '/' })),
    hash_on_query_arg: Type.Optional(Type.String({ minLength: 1 })),
    hash_fallback_query_arg: Type.Optional(Type.String({ minLength: 1 })),
    hash_on_uri_capture: Type.Optional(Type.String({ minLength: 1 })),
    hash_fallback_uri_capture: Type.Optional(Type.String({ minLength: 1 })),
    slots: Type.Optional(Type.Integer({ minimum: 10, maximum: 65536, default: 10000 })),
    host_header: Type.Optional(Type.String({ minLength: 1 })),
    use_srv_name: Type.Optional(Type.Boolean({ default: false })),
    healthchecks: Type.Optional(HealthchecksSchema),
  },
  { targets: ListOf(UpstreamTargetEntity.schema) },
);

export const UpstreamSchema = UpstreamEntity.schema;
export const TargetSchema = TargetEntity.schema;
