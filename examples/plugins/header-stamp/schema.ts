import { Type, type Static } from '@sinclair/typebox';

/** Config of the example custom plugin `header-stamp`. */
export const schema = Type.Object(
  {
    /** Header set on the request to the upstream and echoed on the response. */
    header_name: Type.String({ default: 'X-Stamp', minLength: 1 }),
    /** Its value. */
    value: Type.String({ default: 'stamped' }),
    /** When set, requests without this header are refused with 400. */
    required_header: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
