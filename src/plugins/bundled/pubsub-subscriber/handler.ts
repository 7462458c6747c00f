import type { Hub } from '../../../pubsub/hub.ts';
import { selectTransport } from '../../../pubsub/transports/select.ts';
import { TRANSPORTS } from '../../../pubsub/transports/index.ts';
import type { SubscriberOptions, TransportName } from '../../../pubsub/transports/types.ts';
import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { channelTemplateProblems, compileChannelIds } from '../../pubsub/channel-ids.ts';
import type { Config } from './schema.ts';

/** The lowest: every auth, acl and rate-limiting plugin has run when a stream opens. */
export const PRIORITY = 0;
export const VERSION = '1.0.0';

interface Compiled {
  readonly ids: ReturnType<typeof compileChannelIds>;
  readonly transports: readonly TransportName[];
  readonly options: SubscriberOptions;
  readonly hub: Hub;
}

export function validate(config: Config): readonly string[] {
  return channelTemplateProblems(config.channels);
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    ids: compileChannelIds(config),
    transports: config.transports,
    hub: env.hub,
    options: {
      firstMessage: config.first_message,
      pingInterval: config.eventsource_ping_interval,
      retryMs: config.eventsource_retry,
      subscriberTimeout: config.subscriber_timeout,
      websocketPingInterval: config.websocket_ping_interval,
      rawStreamSeparator: config.raw_stream_separator,
      limits: { maxQueuedMessages: config.max_queued_messages, maxQueuedBytes: config.max_queued_bytes },
    },
  };
}

/** Picks the transport and channel ids, then takes the request over once access is done. */
export function access(kong: Pdk, conf: Compiled): void {
  const method = kong.request.getMethod();
  if (method !== 'GET' && method !== 'HEAD') return kong.response.error(403, 'Subscriber endpoints only accept GET');
  const ids = conf.ids.render(kong);
  if (!Array.isArray(ids)) return kong.response.error(ids.status, ids.message);
  const name = selectTransport({ headers: kong.request.getHeaders() }, conf.transports);
  if (!name) return kong.response.error(403, 'Subscriber type not allowed here');
  const transport = TRANSPORTS[name];
  const options = withExpiry(conf.options, kong.ctx.shared.jwt_claims);
  kong.response.terminate({
    handle: (exchange) => transport.serve({ ...exchange, channels: ids, hub: conf.hub, options }),
  });
}

/** A verified JWT's `exp` ends the stream when it passes (nchan cannot do this). */
function withExpiry(options: SubscriberOptions, claims: unknown): SubscriberOptions {
  const exp = (claims as { exp?: unknown } | undefined)?.exp;
  if (typeof exp !== 'number') return options;
  return { ...options, limits: { ...options.limits, endsAt: exp * 1000 } };
}
