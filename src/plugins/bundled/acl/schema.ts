import { Type, type Static } from '@sinclair/typebox';

/** Consumer groups (`acls` credentials' `group`); null is how `kong config db_export` writes an unset list. */
const Groups = Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()]);

/**
 * acl's config, Kong's field names and defaults (`kong/plugins/acl/schema.lua`). Kong's entity
 * checks on `allow` / `deny` (exactly one lists groups) are the handler's `validate`, which
 * the loader runs right after this schema: as a schema union, a mistake would be reported as
 * "expected {allow, deny} or {deny, allow}" instead of Kong's messages.
 */
export const schema = Type.Object(
  {
    allow: Type.Optional(Groups),
    deny: Type.Optional(Groups),
    hide_groups_header: Type.Boolean({ default: false }),
    always_use_authenticated_groups: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, description: "exactly one of 'allow' and 'deny' lists groups" },
);

export type Config = Static<typeof schema>;

const FIELDS = "'config.allow', 'config.deny'";

/** Kong's `at_least_one_of` and `only_one_of` on allow/deny, with Kong's messages. */
export function checkLists(config: Config): string[] {
  const allow = (config.allow?.length ?? 0) > 0;
  const deny = (config.deny?.length ?? 0) > 0;
  if (!allow && !deny) return [`at least one of these fields must be non-empty: ${FIELDS}`];
  if (allow && deny) return [`only one of these fields must be non-empty: ${FIELDS}`];
  return [];
}
