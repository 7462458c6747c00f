import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Kong leaves optional fields as `null` (decK dumps write them out), so null is accepted. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const Limit = Nullable(Type.Number({ exclusiveMinimum: 0 }));

/** One seed of a Redis Cluster, as Kong names it (`ip` may also be a host name). */
const ClusterNode = Type.Object(
  {
    ip: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 6379 }),
  },
  { additionalProperties: false },
);

/**
 * Kong's shared `redis` record (3.6+ layout), with Kong 3.x's cluster fields: `cluster_nodes`
 * (seeds; when set, the counters live on that Redis Cluster and `host`/`port`/`database` are
 * unused) and `cluster_max_redirections`.
 */
const Redis = Type.Object(
  {
    host: Nullable(Type.String({ minLength: 1 })),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 6379 }),
    timeout: Type.Integer({ minimum: 0, default: 2000 }),
    connect_timeout: Nullable(Type.Integer({ minimum: 0 })),
    send_timeout: Nullable(Type.Integer({ minimum: 0 })),
    read_timeout: Nullable(Type.Integer({ minimum: 0 })),
    username: Nullable(Type.String()),
    password: Nullable(Type.String()),
    database: Type.Integer({ default: 0 }),
    ssl: Type.Boolean({ default: false }),
    ssl_verify: Type.Boolean({ default: false }),
    server_name: Nullable(Type.String()),
    keepalive_pool_size: Type.Integer({ minimum: 1, default: 256 }),
    keepalive_backlog: Nullable(Type.Integer({ minimum: 0 })),
    cluster_nodes: Nullable(Type.Array(ClusterNode, { minItems: 1 })),
    cluster_max_redirections: Type.Integer({ minimum: 0, default: 5 }),
  },
  { additionalProperties: false },
);

/**
 * Kong's rate-limiting config, plus Sluice's `window_type` (Kong Enterprise's name): `fixed`
 * (Kong OSS, calendar-aligned windows) or `sliding` (weighted previous window). The pre-3.6
 * `redis_*` shorthands are still accepted and fold into `redis`. Cross-field rules (at least
 * one limit, larger windows ≥ smaller ones, `header_name`/`path` with their `limit_by`) are
 * checked when the config is compiled.
 */
export const schema = Type.Object(
  {
    second: Limit,
    minute: Limit,
    hour: Limit,
    day: Limit,
    month: Limit,
    year: Limit,
    limit_by: Type.Union(
      [Type.Literal('consumer'), Type.Literal('credential'), Type.Literal('ip'), Type.Literal('service'), Type.Literal('header'), Type.Literal('path')],
      { default: 'consumer' },
    ),
    header_name: Nullable(Type.String({ minLength: 1 })),
    path: Nullable(Type.String({ pattern: '^/' })),
    policy: Type.Union([Type.Literal('local'), Type.Literal('cluster'), Type.Literal('redis')], { default: 'local' }),
    fault_tolerant: Type.Boolean({ default: true }),
    redis: Type.Optional(Redis),
    redis_host: Nullable(Type.String({ minLength: 1 })),
    redis_port: Nullable(Type.Integer({ minimum: 0, maximum: 65535 })),
    redis_username: Nullable(Type.String()),
    redis_password: Nullable(Type.String()),
    redis_database: Nullable(Type.Integer()),
    redis_timeout: Nullable(Type.Integer({ minimum: 0 })),
    redis_ssl: Nullable(Type.Boolean()),
    redis_ssl_verify: Nullable(Type.Boolean()),
    redis_server_name: Nullable(Type.String()),
    hide_client_headers: Type.Boolean({ default: false }),
    error_code: Type.Integer({ minimum: 100, maximum: 599, default: 429 }),
    error_message: Type.String({ default: 'API rate limit exceeded' }),
    sync_rate: Type.Number({ default: -1 }),
    window_type: Type.Union([Type.Literal('fixed'), Type.Literal('sliding')], { default: 'fixed' }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
export type LimitBy = Config['limit_by'];
