import { Type, type Static } from '@sinclair/typebox';

/** The methods Kong's cors allows by default (`kong/plugins/cors/schema.lua`). */
export const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

const Method = Type.Union(
  ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'].map((m) => Type.Literal(m)),
);

/**
 * cors's config, Kong's field names and defaults. `origins` entries are exact origins, `*`, or
 * (when they contain a character outside `A-Za-z0-9.:/-`) regexes matched against the whole
 * origin — or only its host when the regex has no `:`. Unset optional fields accept null, as
 * `kong config db_export` writes them.
 */
export const schema = Type.Object(
  {
    origins: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()])),
    headers: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()])),
    exposed_headers: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()])),
    methods: Type.Array(Method, { default: [...DEFAULT_METHODS] }),
    max_age: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    credentials: Type.Boolean({ default: false }),
    private_network: Type.Boolean({ default: false }),
    preflight_continue: Type.Boolean({ default: false }),
    /** Kong 3.7+: when false, a request without `Origin` gets no CORS headers at all. */
    allow_origin_absent: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
