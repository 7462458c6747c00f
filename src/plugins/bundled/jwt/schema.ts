import { Type, type Static } from '@sinclair/typebox';

/**
 * Kong's jwt plugin config (`kong/plugins/jwt/schema.lua`), same names and defaults. Kong's
 * `set` fields are arrays with unique items. Kong's cross-field rule (`maximum_expiration > 0`
 * requires `exp` in `claims_to_verify`) is checked by the handler's `validate`.
 */
const Names = (defaults: string[]) =>
  Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, default: defaults });

export const schema = Type.Object(
  {
    /** Query arguments searched for a token, in order. */
    uri_param_names: Type.Optional(Names(['jwt'])),
    /** Cookies searched for a token. */
    cookie_names: Type.Optional(Names([])),
    /** Headers searched for `Bearer <token>`. */
    header_names: Type.Optional(Names(['authorization'])),
    /** The claim (or, failing that, the header parameter) naming the credential's `key`. */
    key_claim_name: Type.Optional(Type.String({ minLength: 1, default: 'iss' })),
    /** HMAC secrets (and public keys) are stored base64-encoded in the credential. */
    secret_is_base64: Type.Optional(Type.Boolean({ default: false })),
    /** Registered claims that must be present and valid. Without it, `exp`/`nbf` are not looked at. */
    claims_to_verify: Type.Optional(
      Type.Array(Type.Union([Type.Literal('exp'), Type.Literal('nbf')]), { uniqueItems: true }),
    ),
    /** Consumer id or username used when authentication fails (logical OR of auth plugins). */
    anonymous: Type.Optional(Type.String({ minLength: 1 })),
    /** Authenticate CORS preflight (OPTIONS) requests too. */
    run_on_preflight: Type.Optional(Type.Boolean({ default: true })),
    /** Seconds a token may still live (`exp - now`); 0 = unlimited. Needs `exp` in `claims_to_verify`. */
    maximum_expiration: Type.Optional(Type.Number({ minimum: 0, maximum: 31536000, default: 0 })),
    /** Realm announced in `WWW-Authenticate` on 401 answers. */
    realm: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
