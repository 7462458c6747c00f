import { Type, type Static } from '@sinclair/typebox';

/** Kong's bot-detection config: extra User-Agent regexes (PCRE spelling) to let through or refuse. */
export const schema = Type.Object(
  {
    allow: Type.Array(Type.String(), { default: [] }),
    deny: Type.Array(Type.String(), { default: [] }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
