/**
 * Revocation: the open subscriber streams of one consumer (the consumer a `pubsub-subscriber`
 * route's auth plugins authenticated when the stream opened).
 *
 * - `GET /consumers/{username or id}/streams` → `{"consumer": id, "open": n}`;
 * - `DELETE /consumers/{username or id}/streams` → `{"consumer": id, "closed": n}`: every one
 *   of them ends with `REVOKED` (SSE `event: revoked`, WebSocket close 4403 `REVOKED`, long-poll
 *   403). It does not keep the consumer out: reconnects go through the plugin chain again, so
 *   remove or change its credentials in the config to lock it out.
 * - An unknown consumer is 404. A consumer removed from the config by a reload while its streams
 *   stayed open can still be revoked by its id.
 *
 * @example
 *   curl -X DELETE localhost:8001/consumers/alice/streams   # {"consumer":"…","closed":3}
 */
import type { Consumer } from '../config/types.ts';
import type { Hub } from '../pubsub/index.ts';
import { AdminError } from './errors.ts';
import type { AdminRequest, AdminRoute } from './types.ts';

/** Kong's lookup (id, then username), or an id that still has open streams after a reload removed it. */
function consumerId(key: string, consumers: ReadonlyMap<string, Consumer>, hub: Hub): string {
  const byId = consumers.get(key) ?? consumers.get(key.toLowerCase());
  if (byId !== undefined) return byId.id;
  for (const consumer of consumers.values()) if (consumer.username === key) return consumer.id;
  if (hub.streamsOf(key) > 0) return key;
  throw new AdminError('NOT_FOUND');
}

const idOf = ({ params, state, deps }: AdminRequest) => consumerId(params.consumer ?? '', state.snapshot.consumers, deps.hub);

export const consumerStreamRoutes: readonly AdminRoute[] = [
  {
    method: 'GET',
    pattern: '/consumers/:consumer/streams',
    handler: (req) => {
      const id = idOf(req);
      return { status: 200, body: { consumer: id, open: req.deps.hub.streamsOf(id) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/consumers/:consumer/streams',
    handler: async (req) => {
      const id = idOf(req);
      return { status: 200, body: { consumer: id, closed: await req.deps.hub.revoke(id) } };
    },
  },
];
