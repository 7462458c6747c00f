import { Type, type Static } from '@sinclair/typebox';
import { TRANSPORT_NAMES } from '../../../pubsub/transports/types.ts';
import { HookTimeout, HookUrl } from '../../pubsub/hook-config.ts';

const Transport = Type.Union(TRANSPORT_NAMES.map((name) => Type.Literal(name)));

/**
 * Turns a route into a subscriber endpoint (nchan's `nchan_subscriber` location). The route's
 * other plugins (auth, acl, rate limiting) run first; then the connection streams.
 */
export const schema = Type.Object(
  {
    /** Channel id templates, e.g. `chat:$(uri_captures.room)`; several ids multiplex. */
    channels: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 255 }),
    /** Splits each rendered id into several (nchan_channel_id_split_delimiter). */
    channel_id_split_delimiter: Type.Optional(Type.String({ minLength: 1 })),
    max_channel_id_length: Type.Integer({ minimum: 1, default: 1024 }),
    /** nchan's default subscriber types. */
    transports: Type.Array(Transport, { minItems: 1, default: ['websocket', 'eventsource', 'longpoll', 'chunked', 'multipart'] }),
    /** oldest | newest | N (Nth oldest) | -N (N back). */
    first_message: Type.Union([Type.Literal('oldest'), Type.Literal('newest'), Type.Integer()], { default: 'oldest' }),
    eventsource_ping_interval: Type.Number({ minimum: 0, default: 0 }),
    eventsource_retry: Type.Integer({ minimum: 0, default: 0 }),
    subscriber_timeout: Type.Number({ minimum: 0, default: 0 }),
    websocket_ping_interval: Type.Number({ minimum: 0, default: 0 }),
    raw_stream_separator: Type.String({ default: '\n' }),
    /** Bounded queue per subscriber: past either limit it is closed as a slow consumer. */
    max_queued_messages: Type.Integer({ minimum: 1, default: 1000 }),
    max_queued_bytes: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 }),
    /**
     * nchan_authorize_request: a GET with the client's headers, `X-Original-URI` and
     * `X-Channel-Id` before the subscriber is let in (on every long-poll / interval-poll
     * request, once per WebSocket/EventSource). 2xx lets it in; any other answer goes back to
     * the client as it is; 502 when the hook is unreachable, 504 past `authorize_timeout` ms.
     */
    authorize_url: Type.Optional(HookUrl),
    authorize_timeout: HookTimeout,
    /**
     * nchan_subscribe_request / nchan_unsubscribe_request: GET notifications (same headers)
     * when a stream starts and when it ends. Fire-and-forget: failures are logged and never
     * touch the stream. As in nchan, long-poll and interval-poll requests send none.
     */
    subscribe_url: Type.Optional(HookUrl),
    unsubscribe_url: Type.Optional(HookUrl),
    presence_timeout: HookTimeout,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof schema>;
