/**
 * Publishing from a `pubsub-publisher` route to its channels, answered as nchan's publisher.
 *
 * @example
 *   await publishEach(hub, res, ['a', 'b'], { data: Buffer.from('hi') }, req.headers.accept); // 201 or 202 + info
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChannelInfo, PublishInput } from '../../../pubsub/engine.ts';
import type { Hub } from '../../../pubsub/hub.ts';
import { formatChannelInfo } from '../../../pubsub/publisher/index.ts';
import { readBody, respondError, respondStatus } from '../../../pubsub/publisher/http-publisher.ts';

/** A message to publish: `data` with `contentType`, and the request's `X-EventSource-Event`. */
export function messageInput(req: IncomingMessage, data: Buffer, contentType: string | undefined): PublishInput {
  const eventName = firstValue(req.headers['x-eventsource-event']);
  return { data, ...(contentType ? { contentType } : {}), ...(eventName ? { eventName } : {}) };
}

/**
 * Publishes one message to each channel in order. The answer is 201 when any channel had a
 * subscriber (202 when none did), with the last channel's info.
 */
export async function publishEach(hub: Hub, res: ServerResponse, ids: readonly string[], input: PublishInput, accept: string | undefined): Promise<void> {
  let heard = false;
  let last: ChannelInfo | null = null;
  for (const id of ids) {
    last = (await hub.publish(id, input)).channel;
    heard ||= last.subscribers > 0;
  }
  writeInfo(res, heard ? 201 : 202, formatChannelInfo(last, accept));
}

/**
 * Several channels at once (nchan: multiple ids or a split delimiter): POST/PUT publishes the
 * one body to each, DELETE deletes them all, GET answers the first channel's info.
 */
export async function publishToAll(hub: Hub, maxBodySize: number, req: IncomingMessage, res: ServerResponse, ids: readonly string[]): Promise<void> {
  const accept = req.headers.accept;
  try {
    if (req.method === 'POST' || req.method === 'PUT') return await publishEach(hub, res, ids, messageInput(req, await readBody(req, maxBodySize), firstValue(req.headers['content-type'])), accept);
    if (req.method === 'DELETE') {
      const infos = await Promise.all(ids.map((id) => hub.delete(id)));
      const found = infos.filter((info) => info !== null);
      return found.length === 0 ? respondStatus(res, 404) : writeInfo(res, 200, formatChannelInfo({ ...found[found.length - 1]!, messages: 0 }, accept));
    }
    if (req.method === 'GET') {
      const info = await hub.info(ids[0] as string);
      return info === null ? respondStatus(res, 404) : writeInfo(res, 200, formatChannelInfo(info, accept));
    }
    req.resume();
    respondStatus(res, 405, { allow: 'GET, POST, PUT, DELETE' });
  } catch (error) {
    respondError(res, error);
  }
}

export function firstValue(value: string | readonly string[] | undefined): string | undefined {
  const first = typeof value === 'string' ? value : value?.[0];
  return first === '' ? undefined : first;
}

function writeInfo(res: ServerResponse, status: number, info: { contentType: string; body: string }): void {
  res.writeHead(status, { 'content-type': info.contentType, 'content-length': Buffer.byteLength(info.body) });
  res.end(info.body);
}
