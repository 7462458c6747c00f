import type { ServerResponse } from 'node:http';
import type { Hub } from '../../../pubsub/hub.ts';
import type { StreamTracker } from '../../../observability/stream-tracker.ts';
import { hookRequestHeaders, notifyHook, type HookHeaders } from '../../../pubsub/hooks.ts';
import { selectTransport } from '../../../pubsub/transports/select.ts';
import { TRANSPORTS } from '../../../pubsub/transports/index.ts';
import type { StreamEndListener, SubscriberExchange, SubscriberOptions, TransportName } from '../../../pubsub/transports/types.ts';
import type { Logger } from '../../../observability/logger.ts';
import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { authorizeHook, authorizeRequest, type AuthorizeHook } from '../../pubsub/authorize.ts';
import { channelTemplateProblems, compileChannelIds } from '../../pubsub/channel-ids.ts';
import { hookUrlProblems, originalUri } from '../../pubsub/hook-config.ts';
import type { Config } from './schema.ts';

/** The lowest: every auth, acl and rate-limiting plugin has run when a stream opens. */
export const PRIORITY = 0;
export const VERSION = '1.0.0';

interface Compiled {
  readonly ids: ReturnType<typeof compileChannelIds>;
  readonly transports: readonly TransportName[];
  readonly options: SubscriberOptions;
  readonly hub: Hub;
  readonly hooks: {
    readonly authorize?: AuthorizeHook;
    readonly subscribe?: string;
    readonly unsubscribe?: string;
    readonly presenceTimeoutMs: number;
  };
  readonly logger: Logger;
}

/** nchan disables the presence hooks for the polling transports (one request per poll). */
const NO_PRESENCE_HOOKS: ReadonlySet<TransportName> = new Set(['longpoll', 'intervalpoll']);

export function validate(config: Config): readonly string[] {
  return [
    ...channelTemplateProblems(config.channels),
    ...hookUrlProblems({ authorize_url: config.authorize_url, subscribe_url: config.subscribe_url, unsubscribe_url: config.unsubscribe_url }),
  ];
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    ids: compileChannelIds(config),
    transports: config.transports,
    hub: env.hub,
    logger: env.logger,
    hooks: {
      ...authorizeHook(config),
      ...(config.subscribe_url !== undefined ? { subscribe: config.subscribe_url } : {}),
      ...(config.unsubscribe_url !== undefined ? { unsubscribe: config.unsubscribe_url } : {}),
      presenceTimeoutMs: config.presence_timeout,
    },
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

/**
 * Picks the transport and channel ids, asks the authorize hook (if any), then takes the request
 * over once access is done.
 */
export async function access(kong: Pdk, conf: Compiled): Promise<void> {
  const admitted = admit(kong, conf);
  if (!admitted) return;
  const { ids, name } = admitted;
  const { authorize, subscribe, unsubscribe } = conf.hooks;
  const presence = !NO_PRESENCE_HOOKS.has(name) && (subscribe !== undefined || unsubscribe !== undefined);
  const headers =
    authorize || presence
      ? hookRequestHeaders(kong.request.getHeaders(), { originalUri: originalUri(kong), channels: ids, extra: { 'x-subscriber-type': name } })
      : undefined;
  if (authorize && headers && !(await authorizeRequest(kong, authorize, headers, 'pubsub-subscriber', 'relay'))) return;
  const transport = TRANSPORTS[name];
  const options = withConsumer(withExpiry(conf.options, kong.ctx.shared.jwt_claims), kong.client.getConsumer()?.id);
  kong.response.terminate({
    stream: { channels: ids, transport: name },
    handle: (exchange) => {
      const tracker = exchange.trackStream?.(name, ids);
      // Held for re-checks on reload, around the hub the metrics observe.
      const hub = exchange.holdStreams(tracker ? tracker.hub(conf.hub) : conf.hub, { channels: ids, transport: name });
      const end = new StreamEnd(tracker, presence && headers ? new Presence(conf, headers, exchange.requestId, ids[0]) : undefined);
      const gatewayDetached = exchange.detached;
      const subscriber: SubscriberExchange = {
        ...exchange,
        channels: ids,
        hub,
        options,
        ...(gatewayDetached ? { detached: () => end.detach(gatewayDetached) } : {}),
      };
      end.presence?.notify('subscribe');
      return transport.serve(subscriber).finally(() => end.returned(exchange.res));
    },
  });
}

/**
 * On reload, an open stream is re-checked: the same method/transport/channel checks as
 * `access`, but the authorize hook is not called again (an HTTP request per stream per reload;
 * nchan asks it once per stream too). The gateway compares the channels and transport.
 */
export function recheck(kong: Pdk, conf: Compiled): void {
  const admitted = admit(kong, conf);
  if (admitted) kong.response.terminate({ stream: { channels: admitted.ids, transport: admitted.name }, handle: () => Promise.resolve() });
}

/** Method, channel ids and transport; answers the request and returns undefined on refusal. */
function admit(kong: Pdk, conf: Compiled): { ids: string[]; name: TransportName } | undefined {
  const method = kong.request.getMethod();
  if (method !== 'GET' && method !== 'HEAD') return void kong.response.error(403, 'Subscriber endpoints only accept GET');
  const ids = conf.ids.render(kong);
  if (!Array.isArray(ids)) return void kong.response.error(ids.status, ids.message);
  const name = selectTransport({ headers: kong.request.getHeaders(), httpVersionMajor: Math.floor(kong.request.getHttpVersion()) }, conf.transports);
  if (!name) return void kong.response.error(403, 'Subscriber type not allowed here');
  return { ids, name };
}

/** nchan_subscribe_request before the stream, nchan_unsubscribe_request once it has ended. */
class Presence {
  constructor(
    private readonly conf: Compiled,
    private readonly headers: HookHeaders,
    private readonly requestId: string,
    private readonly channel: string | undefined,
  ) {}

  notify(what: 'subscribe' | 'unsubscribe'): void {
    const url = this.conf.hooks[what];
    if (url === undefined) return;
    void notifyHook({ url, headers: this.headers, timeoutMs: this.conf.hooks.presenceTimeoutMs }, (reason) =>
      this.conf.logger.warn({ url, reason, request_id: this.requestId, channel: this.channel }, `pubsub-subscriber: ${what} request failed`),
    );
  }
}

/**
 * What runs once a stream is over: the tracker's close line and metrics, then the unsubscribe
 * hook. Either when the transport returns or, for a detached stream (see
 * `SubscriberExchange.detached`), when it says it is over: a small object, so the request's
 * exchange is not held for the stream's lifetime.
 */
class StreamEnd implements StreamEndListener {
  /** The gateway's listener, once the stream detached: told after this stream's close work. */
  private next: StreamEndListener | undefined;

  constructor(private readonly tracker: StreamTracker | undefined, readonly presence: Presence | undefined) {}

  /** The stream detached: its end comes here first, then goes on to the gateway's listener. */
  detach(gatewayDetached: () => StreamEndListener): StreamEndListener {
    this.next = gatewayDetached();
    return this;
  }

  streamEnded(): void {
    try {
      // A detached response never finishes through Node: its stream closes, it does not complete.
      this.over(false);
    } finally {
      this.next?.streamEnded();
    }
  }

  /** The transport returned; unless the end was handed over, the stream is over now. */
  returned(res: ServerResponse): void {
    if (this.next === undefined) this.over(res.writableFinished);
  }

  private over(completed: boolean): void {
    this.presence?.notify('unsubscribe');
    this.tracker?.finish(completed);
  }
}

/** Tags the stream with the authenticated consumer, so an operator can revoke it (`hub.revoke`). */
function withConsumer(options: SubscriberOptions, consumerId: string | undefined): SubscriberOptions {
  return consumerId === undefined ? options : { ...options, limits: { ...options.limits, consumer: consumerId } };
}

/** A verified JWT's `exp` ends the stream when it passes (nchan cannot do this). */
function withExpiry(options: SubscriberOptions, claims: unknown): SubscriberOptions {
  const exp = (claims as { exp?: unknown } | undefined)?.exp;
  if (typeof exp !== 'number') return options;
  return { ...options, limits: { ...options.limits, endsAt: exp * 1000 } };
}
