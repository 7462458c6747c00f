import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Kong leaves these fields unset as `null` (decK dumps write them out), so null is accepted. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/**
 * Kong's ip-restriction config. `allow`/`deny` hold IPs or CIDRs (v4, v6, IPv4-mapped v6);
 * at least one of them must be non-empty (checked, with the entries, when compiled).
 * `status` / `message` default to 403 / "Your IP address is not allowed" when unset.
 */
export const schema = Type.Object(
  {
    allow: Nullable(Type.Array(Type.String({ minLength: 1 }))),
    deny: Nullable(Type.Array(Type.String({ minLength: 1 }))),
    status: Nullable(Type.Integer({ minimum: 100, maximum: 599 })),
    message: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
