import { Type, type Static } from '@sinclair/typebox';

const list = () => Type.Array(Type.String(), { default: [] });
const types = () => Type.Array(Type.Union([Type.Literal('boolean'), Type.Literal('number'), Type.Literal('string')]), { default: [] });
const OPTIONS = { additionalProperties: false, default: {} } as const;

/**
 * response-transformer's config, Kong's field names and defaults
 * (`kong/plugins/response-transformer/schema.lua`). `remove` lists names, the others
 * `name:value` entries (rename: `old:new`). `json_types[i]` types the value of `json[i]`
 * (`string` when absent). Values are literal: Kong has no templates here.
 */
export const schema = Type.Object(
  {
    remove: Type.Object({ json: list(), headers: list() }, OPTIONS),
    rename: Type.Object({ json: list(), headers: list() }, OPTIONS),
    replace: Type.Object({ json: list(), json_types: types(), headers: list() }, OPTIONS),
    add: Type.Object({ json: list(), json_types: types(), headers: list() }, OPTIONS),
    append: Type.Object({ json: list(), json_types: types(), headers: list() }, OPTIONS),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
