/**
 * The Admin API's channel endpoints (route table entries, see `routes.ts`):
 *
 * - `GET /channels[?prefix=&size=&offset=]`: Kong's envelope `{data, next, offset?}`, each item
 *   `{id, messages, subscribers, last_message_id, requested}` (the publisher's channel info);
 *   `meta/` channels only when `prefix` starts with `meta`;
 * - `GET /channels/{id}`: one channel, 404 when it does not exist; `{id}` is URL-encoded (a `/`
 *   in it is `%2F`);
 * - `DELETE /channels/{id}`: deletes it, closing its subscribers as the publisher's DELETE does
 *   (410 on every transport), and answers 200 with the channel as it was (so `subscribers` says
 *   how many were closed), 404 when it does not exist.
 *
 * @example
 *   curl -s 'localhost:8001/channels?prefix=chat:&size=2'
 */
import type { ChannelInfo, Hub } from '../pubsub/index.ts';
import { formatMessageId } from '../pubsub/index.ts';
import { nextLink, parseChannelQuery } from './channel-paging.ts';
import { AdminError } from './errors.ts';
import type { AdminReply, AdminRoute } from './types.ts';

/** One channel as the Admin API shows it. */
export interface ChannelItem {
  readonly id: string;
  readonly messages: number;
  readonly subscribers: number;
  /** `null` while nothing was ever published. */
  readonly last_message_id: string | null;
  /** Seconds since the last subscriber request, -1 if never. */
  readonly requested: number;
}

export function channelItem(id: string, info: ChannelInfo): ChannelItem {
  return {
    id,
    messages: info.messages,
    subscribers: info.subscribers,
    last_message_id: info.lastMessageId === null ? null : formatMessageId(info.lastMessageId),
    requested: info.requested,
  };
}

async function listChannels(hub: Hub, params: URLSearchParams): Promise<AdminReply> {
  const query = parseChannelQuery(params);
  const page = await hub.channels(query.prefix, query.cursor, query.size);
  const data = page.channels.map((c) => channelItem(c.id, c.info));
  return { status: 200, body: page.next === null ? { data, next: null } : { data, ...nextLink(query, page.next) } };
}

async function oneChannel(hub: Hub, id: string | undefined, remove: boolean): Promise<AdminReply> {
  const info = id === undefined || id === '' ? null : remove ? await hub.delete(id) : await hub.info(id);
  if (info === null || id === undefined) throw new AdminError('NOT_FOUND');
  return { status: 200, body: channelItem(id, info) };
}

export const channelRoutes: readonly AdminRoute[] = [
  { method: 'GET', pattern: '/channels', handler: ({ deps, query }) => listChannels(deps.hub, query) },
  { method: 'GET', pattern: '/channels/:channel', handler: ({ deps, params }) => oneChannel(deps.hub, params.channel, false) },
  { method: 'DELETE', pattern: '/channels/:channel', handler: ({ deps, params }) => oneChannel(deps.hub, params.channel, true) },
];
