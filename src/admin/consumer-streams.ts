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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Consumer } from '../config/types.ts';
import type { Hub } from '../pubsub/index.ts';
import { decodeSegment, refuseMethod, sendAdminError, sendHubFailure, sendJson } from './channels-http.ts';

const STREAMS_PATH = /^\/consumers\/([^/]+)\/streams\/?$/;

/** Answers `/consumers/{x}/streams` and returns true; false for any other path. */
export function handleConsumerStreams(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  deps: { readonly hub: Hub; readonly consumers: () => ReadonlyMap<string, Consumer> },
): boolean {
  const match = STREAMS_PATH.exec(path);
  if (match === null) return false;
  if (req.method !== 'GET' && req.method !== 'DELETE') return refuseMethod(res, 'GET, DELETE');
  req.resume();
  const key = decodeSegment(match[1] as string);
  const id = key === undefined ? undefined : consumerId(key, deps.consumers(), deps.hub);
  if (id === undefined) {
    sendAdminError(res, 'NOT_FOUND');
    return true;
  }
  if (req.method === 'GET') {
    sendJson(res, 200, { consumer: id, open: deps.hub.streamsOf(id) });
    return true;
  }
  deps.hub.revoke(id).then(
    (closed) => sendJson(res, 200, { consumer: id, closed }),
    (error: unknown) => sendHubFailure(res, error),
  );
  return true;
}

/** Kong's lookup (id, then username), or an id that still has open streams after a reload removed it. */
function consumerId(key: string, consumers: ReadonlyMap<string, Consumer>, hub: Hub): string | undefined {
  const byId = consumers.get(key) ?? consumers.get(key.toLowerCase());
  if (byId !== undefined) return byId.id;
  for (const consumer of consumers.values()) if (consumer.username === key) return consumer.id;
  return hub.streamsOf(key) > 0 ? key : undefined;
}
