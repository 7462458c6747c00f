import { Type, type Static } from '@sinclair/typebox';

/**
 * basic-auth's config, Kong 3.x's field names and defaults (`kong/plugins/basic-auth/schema.lua`).
 * `anonymous` also accepts null, which is how `kong config db_export` writes it when unset.
 */
export const schema = Type.Object(
  {
    anonymous: Type.Optional(Type.Union([Type.String({ minLength: 1, description: 'consumer id or username' }), Type.Null()])),
    hide_credentials: Type.Boolean({ default: false }),
    realm: Type.String({ minLength: 1, default: 'service' }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
