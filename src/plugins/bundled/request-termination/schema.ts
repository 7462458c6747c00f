import { Type, type Static } from '@sinclair/typebox';

const OptionalString = Type.Optional(Type.Union([Type.String(), Type.Null()]));

/**
 * request-termination's config, Kong's field names and defaults
 * (`kong/plugins/request-termination/schema.lua`). Kong's entity checks (message vs body,
 * content_type needs body) are enforced by the handler's `compile`.
 */
export const schema = Type.Object(
  {
    status_code: Type.Integer({ minimum: 100, maximum: 599, default: 503 }),
    message: OptionalString,
    body: OptionalString,
    content_type: OptionalString,
    /** A header or query argument name: terminate only when the request carries it. */
    trigger: Type.Optional(Type.Union([Type.String({ minLength: 1, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Type.Null()])),
    echo: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
