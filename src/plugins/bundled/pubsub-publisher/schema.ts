import { Type, type Static } from '@sinclair/typebox';
import { HookTimeout, HookUrl } from '../../pubsub/hook-config.ts';

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
    /**
     * nchan_authorize_request: a GET with the publisher's headers, `X-Original-URI`,
     * `X-Channel-Id` and `X-Publisher-Type: http` before every request but a CORS preflight
     * (publish, channel info, delete). 2xx lets it in; any other answer goes back to the
     * publisher as it is (nchan 1.3.6 answers 403 instead); 502 when the hook is unreachable,
     * 504 past `authorize_timeout` ms.
     */
    authorize_url: Type.Optional(HookUrl),
    authorize_timeout: HookTimeout,
    /**
     * nchan_publisher_upstream_request: each POST/PUT body is first POSTed here (same headers,
     * after the authorize hook). 200/201/202 publish the answer's body and Content-Type
     * instead; 304 publishes the original; 204 drops the message and answers the publisher
     * 204; any other answer is 403 (as nchan). 502 when the hook is unreachable, 504 past
     * `upstream_timeout` ms.
     */
    upstream_url: Type.Optional(HookUrl),
    upstream_timeout: HookTimeout,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
