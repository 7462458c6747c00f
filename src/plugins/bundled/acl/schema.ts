import { Type, type Static } from '@sinclair/typebox';

/** At least one consumer group (an `acls` credential's `group`). */
const Groups = Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });
/** The list not in use: absent, null (as `kong config db_export` writes it) or empty. */
const Unset = Type.Union([Type.Null(), Type.Array(Type.String(), { maxItems: 0 })]);

const fields = Type.Object(
  {
    allow: Type.Optional(Type.Union([Groups, Unset])),
    deny: Type.Optional(Type.Union([Groups, Unset])),
    hide_groups_header: Type.Boolean({ default: false }),
    always_use_authenticated_groups: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

/**
 * acl's config, Kong's field names and defaults (`kong/plugins/acl/schema.lua`). Kong's entity
 * checks `only_one_of` and `at_least_one_of` on `allow` / `deny` are the second half: exactly
 * one list has groups, the other is unset. The first half types each field on its own, so a
 * misspelt field is reported as such rather than as a mismatch of the whole object.
 */
export const schema = Type.Intersect(
  [
    fields,
    Type.Union([
      Type.Object({ allow: Groups, deny: Type.Optional(Unset) }),
      Type.Object({ deny: Groups, allow: Type.Optional(Unset) }),
    ], { description: "exactly one of 'allow' and 'deny' lists groups" }),
  ],
);

export type Config = Static<typeof schema>;
