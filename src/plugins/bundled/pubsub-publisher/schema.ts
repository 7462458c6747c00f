import { Type, type Static } from '@sinclair/typebox';

/**
 * Turns a route on the proxy listener into a publisher endpoint (nchan's `nchan_publisher`),
 * behind the route's own plugins: a service that may publish authenticates like any client.
 */
export const schema = Type.Object(
  {
    /** Channel id templates; several ids (or a split delimiter) publish to all of them. */
    channels: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 255 }),
    channel_id_split_delimiter: Type.Optional(Type.String({ minLength: 1 })),
    max_channel_id_length: Type.Integer({ minimum: 1, default: 1024 }),
    /** Largest message in bytes (nginx's default client_max_body_size, 1 MiB). */
    max_body_size: Type.Integer({ minimum: 1, default: 1024 * 1024 }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
