import { Type, type Static } from '@sinclair/typebox';

const list = () => Type.Array(Type.String(), { default: [] });
const lists = () => ({ body: list(), headers: list(), querystring: list() });
const OPTIONS = { additionalProperties: false, default: {} } as const;

/**
 * request-transformer's config, Kong's field names and defaults
 * (`kong/plugins/request-transformer/schema.lua`). `remove` lists names; the others list
 * `name:value` entries (rename: `old:new`) whose values may use `$(...)` templates
 * (see `src/plugins/template.ts`). The entries are checked, and templates compiled, by the
 * handler's `compile`, with Kong's messages.
 */
export const schema = Type.Object(
  {
    http_method: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Z]+$', maxLength: 32 }), Type.Null()])),
    remove: Type.Object(lists(), OPTIONS),
    rename: Type.Object(lists(), OPTIONS),
    /** `uri`: a new upstream path (template), replacing the one built from the route and service. */
    replace: Type.Object({ ...lists(), uri: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])) }, OPTIONS),
    add: Type.Object(lists(), OPTIONS),
    append: Type.Object(lists(), OPTIONS),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
