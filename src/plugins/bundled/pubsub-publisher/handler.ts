import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPubsubError } from '../../../pubsub/errors.ts';
import { callHook, hookRequestHeaders, relayableHeaders, type HookHeaders } from '../../../pubsub/hooks.ts';
import type { PublishInput } from '../../../pubsub/engine.ts';
import type { Hub } from '../../../pubsub/hub.ts';
import { createPublisherHandler, formatChannelInfo, type PublisherHandler } from '../../../pubsub/publisher/index.ts';
import { readBody, respondError, respondStatus } from '../../../pubsub/publisher/http-publisher.ts';
import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { channelTemplateProblems, compileChannelIds } from '../../pubsub/channel-ids.ts';
import { hookUrlProblems, originalUri } from '../../pubsub/hook-config.ts';
import type { Config } from './schema.ts';

/** The lowest, with pubsub-subscriber: every auth and acl plugin has run before a publish. */
export const PRIORITY = 0;
export const VERSION = '1.0.0';

interface Compiled {
  readonly ids: ReturnType<typeof compileChannelIds>;
  readonly single: PublisherHandler;
  readonly hub: Hub;
  readonly maxBodySize: number;
  readonly upstream?: { readonly url: string; readonly timeoutMs: number };
}

export function validate(config: Config): readonly string[] {
  return [...channelTemplateProblems(config.channels), ...hookUrlProblems({ upstream_url: config.upstream_url })];
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    ids: compileChannelIds(config),
    single: createPublisherHandler({ hub: env.hub, maxChannelIdLength: config.max_channel_id_length, maxBodySize: config.max_body_size }),
    hub: env.hub,
    maxBodySize: config.max_body_size,
    ...(config.upstream_url !== undefined ? { upstream: { url: config.upstream_url, timeoutMs: config.upstream_timeout } } : {}),
  };
}

/** Renders the channel ids, then answers as nchan's publisher once access is done. */
export function access(kong: Pdk, conf: Compiled): void {
  const ids = conf.ids.render(kong);
  if (!Array.isArray(ids)) return kong.response.error(ids.status, ids.message);
  const upstream = conf.upstream;
  const method = kong.request.getMethod();
  if (upstream && (method === 'POST' || method === 'PUT')) {
    const headers = hookRequestHeaders(kong.request.getHeaders(), { originalUri: originalUri(kong), channels: ids, extra: { 'x-publisher-type': 'http' } });
    const onDown = (error: Error) => kong.log.warn('pubsub-publisher: upstream request failed', { url: upstream.url, error: error.message });
    kong.response.terminate({ handle: ({ req, res }) => publishThroughUpstream(conf, upstream, req, res, ids, headers, onDown) });
    return;
  }
  kong.response.terminate({
    handle: ({ req, res }) => (ids.length === 1 ? conf.single(req, res, ids[0] as string) : publishToAll(conf, req, res, ids)),
  });
}

/**
 * nchan_publisher_upstream_request: the body goes to the hook first, once for all the request's
 * channels. 200/201/202 publish the answer (its body and Content-Type; nchan does the same for
 * the three), 304 the original, 204 nothing (the publisher gets 204). Any other answer is
 * relayed to the publisher (nchan 1.3 answers 403 instead; relaying tells the publisher why).
 */
async function publishThroughUpstream(
  conf: Compiled,
  upstream: NonNullable<Compiled['upstream']>,
  req: IncomingMessage,
  res: ServerResponse,
  ids: readonly string[],
  headers: HookHeaders,
  onDown: (error: Error) => void,
): Promise<void> {
  try {
    const data = await readBody(req, conf.maxBodySize);
    const result = await callHook({ url: upstream.url, method: 'POST', headers, body: data, timeoutMs: upstream.timeoutMs, maxBodySize: conf.maxBodySize });
    if (result.kind === 'timeout') return writeJson(res, 504, { message: 'The publisher upstream request timed out' });
    if (result.kind === 'down') {
      onDown(result.error);
      return writeJson(res, 502, { message: 'The publisher upstream request failed' });
    }
    const original = header(req, 'content-type');
    let contentType: string | undefined;
    let body: Buffer;
    switch (result.status) {
      case 200:
      case 201:
      case 202:
        body = result.body;
        contentType = firstValue(result.headers['content-type']);
        break;
      case 304:
        body = data;
        contentType = original;
        break;
      case 204:
        return respondStatus(res, 204);
      default: {
        res.writeHead(result.status, { ...relayableHeaders(result.headers), 'content-length': String(result.body.length) });
        res.end(result.body);
        return;
      }
    }
    const eventName = header(req, 'x-eventsource-event');
    const input: PublishInput = {
      data: body,
      ...(contentType ? { contentType } : {}),
      ...(eventName ? { eventName } : {}),
    };
    let heard = false;
    let last;
    for (const id of ids) {
      last = (await conf.hub.publish(id, input)).channel;
      heard ||= last.subscribers > 0;
    }
    return writeInfo(res, heard ? 201 : 202, formatChannelInfo(last ?? null, req.headers.accept));
  } catch (error) {
    if (isPubsubError(error, 'MESSAGE_TOO_LARGE')) res.setHeader('connection', 'close');
    respondError(res, error);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  return firstValue(req.headers[name]);
}

function firstValue(value: string | readonly string[] | undefined): string | undefined {
  const first = typeof value === 'string' ? value : value?.[0];
  return first === '' ? undefined : first;
}

function writeJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
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
