import { Type, type Static } from '@sinclair/typebox';

/** correlation-id's config, Kong's field names and defaults (`kong/plugins/correlation-id/schema.lua`). */
export const schema = Type.Object(
  {
    header_name: Type.String({ minLength: 1, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", default: 'Kong-Request-ID' }),
    generator: Type.Union([Type.Literal('uuid'), Type.Literal('uuid#counter'), Type.Literal('tracker')], { default: 'uuid#counter' }),
    echo_downstream: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
