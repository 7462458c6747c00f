import { Type, type Static } from '@sinclair/typebox';

/** An HTTP header name (RFC 7230 token): key names are looked up as headers. */
const HeaderName = Type.String({ minLength: 1, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" });

/**
 * key-auth's config, Kong's field names and defaults (`kong/plugins/key-auth/schema.lua`).
 * `anonymous` and `realm` also accept null, which is how `kong config db_export` writes unset fields.
 */
export const schema = Type.Object(
  {
    key_names: Type.Array(HeaderName, { minItems: 1, default: ['apikey'] }),
    hide_credentials: Type.Boolean({ default: false }),
    anonymous: Type.Optional(Type.Union([Type.String({ minLength: 1, description: 'consumer id or username' }), Type.Null()])),
    key_in_header: Type.Boolean({ default: true }),
    key_in_query: Type.Boolean({ default: true }),
    key_in_body: Type.Boolean({ default: false }),
    run_on_preflight: Type.Boolean({ default: true }),
    realm: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
