import { Type } from '@sinclair/typebox';
import { Comment, entity, Tags } from './common.ts';

/**
 * Sluice's `channels` entity: per-channel-pattern pub/sub policy (nchan's buffer, TTL and
 * subscriber limits). The loader keeps the rows raw until the pub/sub issue types them.
 */
export const ChannelEntity = entity(
  'channel',
  {
    name: Type.String({ minLength: 1 }),
    match: Type.String({ minLength: 1, description: 'channel id pattern, `*` wildcard' }),
    message_buffer_length: Type.Optional(Type.Integer({ minimum: 0 })),
    message_timeout: Type.Optional(Type.Number({ minimum: 0, description: 'seconds; 0 = never expire' })),
    max_subscribers: Type.Optional(Type.Integer({ minimum: 0 })),
    max_message_size: Type.Optional(Type.Integer({ minimum: 0, description: 'bytes' })),
    subscribe_existing_only: Type.Optional(Type.Boolean()),
    channel_timeout: Type.Optional(Type.Number({ minimum: 0, description: 'seconds' })),
    events_channel: Type.Optional(
      Type.String({ minLength: 1, description: "nchan_channel_events_channel_id: events go to the meta channel 'meta/<this>'" }),
    ),
    tags: Type.Optional(Tags),
    _comment: Type.Optional(Comment),
  },
  {},
);

export const ChannelSchema = ChannelEntity.schema;
