import type { Hub } from '../../../pubsub/hub.ts';
import { hookRequestHeaders } from '../../../pubsub/hooks.ts';
import { createPublisherHandler, type PublisherHandler } from '../../../pubsub/publisher/index.ts';
import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { authorizeHook, authorizeRequest, type AuthorizeHook } from '../../pubsub/authorize.ts';
import { channelTemplateProblems, compileChannelIds } from '../../pubsub/channel-ids.ts';
import { hookUrlProblems, originalUri } from '../../pubsub/hook-config.ts';
import { publishToAll } from './publish.ts';
import type { Config } from './schema.ts';
import { publishThroughUpstream } from './upstream-hook.ts';

/** The lowest, with pubsub-subscriber: every auth and acl plugin has run before a publish. */
export const PRIORITY = 0;
export const VERSION = '1.0.0';

interface Compiled {
  readonly ids: ReturnType<typeof compileChannelIds>;
  readonly single: PublisherHandler;
  readonly hub: Hub;
  readonly maxBodySize: number;
  readonly authorize?: AuthorizeHook;
  readonly upstream?: { readonly url: string; readonly timeoutMs: number };
}

export function validate(config: Config): readonly string[] {
  return [...channelTemplateProblems(config.channels), ...hookUrlProblems({ authorize_url: config.authorize_url, upstream_url: config.upstream_url })];
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    ids: compileChannelIds(config),
    single: createPublisherHandler({ hub: env.hub, maxChannelIdLength: config.max_channel_id_length, maxBodySize: config.max_body_size }),
    hub: env.hub,
    maxBodySize: config.max_body_size,
    ...authorizeHook(config),
    ...(config.upstream_url !== undefined ? { upstream: { url: config.upstream_url, timeoutMs: config.upstream_timeout } } : {}),
  };
}

/**
 * Renders the channel ids, asks the authorize hook (not for a CORS preflight, as nchan), then
 * answers as nchan's publisher once access is done, through the upstream hook for a POST/PUT.
 */
export async function access(kong: Pdk, conf: Compiled): Promise<void> {
  const ids = conf.ids.render(kong);
  if (!Array.isArray(ids)) return kong.response.error(ids.status, ids.message);
  const method = kong.request.getMethod();
  const authorize = method === 'OPTIONS' ? undefined : conf.authorize;
  const upstream = method === 'POST' || method === 'PUT' ? conf.upstream : undefined;
  const headers = authorize || upstream ? hookRequestHeaders(kong.request.getHeaders(), { originalUri: originalUri(kong), channels: ids, extra: { 'x-publisher-type': 'http' } }) : undefined;
  if (authorize && headers && !(await authorizeRequest(kong, authorize, headers, 'pubsub-publisher', 'forbidden'))) return;
  if (upstream && headers) {
    const onDown = (error: Error) => kong.log.warn('pubsub-publisher: upstream request failed', { url: upstream.url, error: error.message });
    const hook = { hub: conf.hub, ...upstream, maxBodySize: conf.maxBodySize, ids, headers, onDown };
    return kong.response.terminate({ handle: ({ req, res }) => publishThroughUpstream(hook, req, res) });
  }
  kong.response.terminate({
    handle: ({ req, res }) => (ids.length === 1 ? conf.single(req, res, ids[0] as string) : publishToAll(conf.hub, conf.maxBodySize, req, res, ids)),
  });
}
