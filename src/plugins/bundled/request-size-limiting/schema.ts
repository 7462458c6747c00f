import { Type, type Static } from '@sinclair/typebox';

/** Kong's request-size-limiting config: 128 megabytes by default. */
export const schema = Type.Object(
  {
    allowed_payload_size: Type.Integer({ minimum: 0, default: 128 }),
    size_unit: Type.Union([Type.Literal('megabytes'), Type.Literal('kilobytes'), Type.Literal('bytes')], { default: 'megabytes' }),
    require_content_length: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
