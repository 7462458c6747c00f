/**
 * The Admin API's pub/sub endpoints:
 *
 * - `GET /channels[?prefix=&size=&offset=]`: Kong's envelope `{data, next, offset?}`, each item
 *   `{id, messages, subscribers, last_message_id, requested}` (the publisher's channel info);
 *   `meta/` channels only when `prefix` starts with `meta`;
 * - `GET /channels/{id}`: one channel, 404 when it does not exist; `{id}` is URL-encoded and may
 *   contain `/` (raw or as `%2F`);
 * - `DELETE /channels/{id}`: deletes it, closing its subscribers as the publisher's DELETE does
 *   (410 on every transport), and answers 200 with the channel as it was (so `subscribers` says
 *   how many were closed), 404 when it does not exist;
 * - `/consumers/{username or id}/streams`: see `consumer-streams.ts`.
 *
 * @example
 *   // in the admin listener's request handler:
 *   if (handleChannels(req, res, path, { hub, consumers: () => state.snapshot.consumers })) return;
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Consumer } from '../config/types.ts';
import type { ChannelInfo, Hub } from '../pubsub/index.ts';
import { formatMessageId } from '../pubsub/index.ts';
import { nextLink, parseChannelQuery } from './channel-paging.ts';
import { decodeSegment, discardBody, refuseMethod, sendAdminError, sendHubFailure, sendJson } from './channels-http.ts';
import { handleConsumerStreams } from './consumer-streams.ts';

export interface ChannelsDeps {
  readonly hub: Hub;
  /** The running snapshot's consumers, by id (read per request: reloads swap them). */
  readonly consumers: () => ReadonlyMap<string, Consumer>;
}

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

/**
 * Answers the request when `path` (no query string) is one of these endpoints and returns
 * true; returns false, touching nothing, for any other path.
 */
export function handleChannels(req: IncomingMessage, res: ServerResponse, path: string, deps: ChannelsDeps): boolean {
  if (path === '/channels') {
    if (req.method !== 'GET') return refuseMethod(res, 'GET');
    void listChannels(req, res, deps.hub);
    return true;
  }
  if (path.startsWith('/channels/')) {
    const id = decodeSegment(path.slice('/channels/'.length));
    if (id === undefined) {
      discardBody(res);
      sendAdminError(res, 'BAD_REQUEST', 'Bad request: malformed percent-encoding in the channel id');
      return true;
    }
    if (id === '') {
      discardBody(res);
      sendAdminError(res, 'NOT_FOUND');
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'DELETE') return refuseMethod(res, 'GET, DELETE');
    void oneChannel(res, deps.hub, id, req.method === 'DELETE');
    return true;
  }
  return handleConsumerStreams(req, res, path, deps);
}

async function listChannels(req: IncomingMessage, res: ServerResponse, hub: Hub): Promise<void> {
  const query = parseChannelQuery(new URL(req.url ?? '/', 'http://admin').searchParams);
  if ('error' in query) return sendAdminError(res, query.error, query.message);
  try {
    const page = await hub.channels(query.prefix, query.cursor, query.size);
    const data = page.channels.map((c) => channelItem(c.id, c.info));
    sendJson(res, 200, page.next === null ? { data, next: null } : { data, ...nextLink(query, page.next) });
  } catch (error) {
    sendHubFailure(res, error);
  }
}

async function oneChannel(res: ServerResponse, hub: Hub, id: string, remove: boolean): Promise<void> {
  try {
    const info = remove ? await hub.delete(id) : await hub.info(id);
    if (info === null) return sendAdminError(res, 'NOT_FOUND');
    sendJson(res, 200, channelItem(id, info));
  } catch (error) {
    sendHubFailure(res, error);
  }
}
