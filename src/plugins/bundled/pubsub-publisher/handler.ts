import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../../../pubsub/hub.ts';
import { createPublisherHandler, formatChannelInfo, type PublisherHandler } from '../../../pubsub/publisher/index.ts';
import { readBody, respondError, respondStatus } from '../../../pubsub/publisher/http-publisher.ts';
import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { channelTemplateProblems, compileChannelIds } from '../../pubsub/channel-ids.ts';
import type { Config } from './schema.ts';

/** The lowest, with pubsub-subscriber: every auth and acl plugin has run before a publish. */
export const PRIORITY = 0;
export const VERSION = '1.0.0';

interface Compiled {
  readonly ids: ReturnType<typeof compileChannelIds>;
  readonly single: PublisherHandler;
  readonly hub: Hub;
  readonly maxBodySize: number;
}

export function validate(config: Config): readonly string[] {
  return channelTemplateProblems(config.channels);
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    ids: compileChannelIds(config),
    single: createPublisherHandler({ hub: env.hub, maxChannelIdLength: config.max_channel_id_length, maxBodySize: config.max_body_size }),
    hub: env.hub,
    maxBodySize: config.max_body_size,
  };
}

/** Renders the channel ids, then answers as nchan's publisher once access is done. */
export function access(kong: Pdk, conf: Compiled): void {
  const ids = conf.ids.render(kong);
  if (!Array.isArray(ids)) return kong.response.error(ids.status, ids.message);
  kong.response.terminate({
    handle: ({ req, res }) => (ids.length === 1 ? conf.single(req, res, ids[0] as string) : publishToAll(conf, req, res, ids)),
  });
}

/**
 * Several channels at once (nchan: multiple ids or a split delimiter): POST/PUT publishes the
 * one body to each, DELETE deletes them all, GET answers the first channel's info. The answer
 * is 201 when any channel had a subscriber, with the last channel's info.
 */
async function publishToAll(conf: Compiled, req: IncomingMessage, res: ServerResponse, ids: readonly string[]): Promise<void> {
  const accept = req.headers.accept;
  try {
    if (req.method === 'POST' || req.method === 'PUT') {
      const data = await readBody(req, conf.maxBodySize);
      const contentType = req.headers['content-type'];
      const eventName = req.headers['x-eventsource-event'];
      let heard = false;
      let last;
      for (const id of ids) {
        const input = { data, ...(contentType ? { contentType } : {}), ...(typeof eventName === 'string' && eventName ? { eventName } : {}) };
        last = (await conf.hub.publish(id, input)).channel;
        heard ||= last.subscribers > 0;
      }
      return writeInfo(res, heard ? 201 : 202, formatChannelInfo(last ?? null, accept));
    }
    if (req.method === 'DELETE') {
      const infos = await Promise.all(ids.map((id) => conf.hub.delete(id)));
      const found = infos.filter((info) => info !== null);
      return found.length === 0 ? respondStatus(res, 404) : writeInfo(res, 200, formatChannelInfo({ ...found[found.length - 1]!, messages: 0 }, accept));
    }
    if (req.method === 'GET') {
      const info = await conf.hub.info(ids[0] as string);
      return info === null ? respondStatus(res, 404) : writeInfo(res, 200, formatChannelInfo(info, accept));
    }
    req.resume();
    respondStatus(res, 405, { allow: 'GET, POST, PUT, DELETE' });
  } catch (error) {
    respondError(res, error);
  }
}

function writeInfo(res: ServerResponse, status: number, info: { contentType: string; body: string }): void {
  res.writeHead(status, { 'content-type': info.contentType, 'content-length': Buffer.byteLength(info.body) });
  res.end(info.body);
}
