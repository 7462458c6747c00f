/**
 * Watches one subscriber connection for metrics and the stream log lines: it hands the
 * transport a hub whose `subscribe` it sees (the stream is open once the subscription is), and
 * when the transport is done it logs the close with the duration, the messages delivered and
 * the reason. Transports stay unaware of it.
 *
 * ```ts
 * const tracker = new StreamTracker(sinks, info, 'eventsource', ['news']);
 * await transport.serve({ ...exchange, hub: tracker.hub(hub) });
 * tracker.finish(exchange.res.writableFinished);   // "stream closed" {reason: 'client_closed', messages: 3, ...}
 * ```
 */
import type { EndReason, Hub, Subscription } from '../pubsub/hub.ts';
import type { Logger } from './logger.ts';
import type { GatewayMetrics } from './metrics.ts';

/** Who the stream belongs to, taken from the request. */
export interface StreamInfo {
  readonly requestId: string;
  readonly correlationId?: string;
  readonly clientIp: string;
  readonly route: string;
  readonly service: string;
  readonly consumer: string | undefined;
}

export interface StreamSinks {
  readonly metrics: GatewayMetrics | undefined;
  /** Undefined when the access log is off. */
  readonly log: Logger | undefined;
}

/**
 * Why a stream closed: the hub's EndReason when the hub ended it, `client_closed` when the
 * client went away first, `completed` when the transport answered and finished (a poll).
 */
export type StreamCloseReason = Exclude<EndReason, 'UNSUBSCRIBED'> | 'client_closed' | 'completed';

export class StreamTracker {
  private subscription: Subscription | undefined;
  private openedAt = 0;
  // The request's fields, not its StreamInfo object: one object fewer per open stream.
  private readonly requestId: string;
  private readonly correlationId: string | undefined;
  private readonly clientIp: string;
  private readonly route: string;
  private readonly service: string;
  private readonly consumer: string | undefined;

  constructor(
    private readonly sinks: StreamSinks,
    info: StreamInfo,
    private readonly transport: string,
    private readonly channels: readonly string[],
  ) {
    this.requestId = info.requestId;
    this.correlationId = info.correlationId;
    this.clientIp = info.clientIp;
    this.route = info.route;
    this.service = info.service;
    this.consumer = info.consumer;
  }

  /** `hub` as the transport should see it (transports only subscribe), with `subscribe` observed. */
  hub(hub: Pick<Hub, 'subscribe'>): Pick<Hub, 'subscribe'> {
    return {
      subscribe: async (channelIds, cursor, sink, limits) => {
        const subscription = await hub.subscribe(channelIds, cursor, sink, limits);
        if (this.subscription === undefined) this.opened(subscription);
        return subscription;
      },
    };
  }

  /** The stream (if one opened) is closed now; `completed` when its response finished (a poll's answer). */
  finish(completed: boolean): void {
    const subscription = this.subscription;
    if (subscription === undefined) return;
    this.subscription = undefined;
    const ended = subscription.endReason;
    const reason: StreamCloseReason = ended !== undefined && ended !== 'UNSUBSCRIBED' ? ended : completed ? 'completed' : 'client_closed';
    const { metrics, log } = this.sinks;
    if (metrics) {
      metrics.openStreams.dec({ transport: this.transport });
      metrics.subscribers.dec(this.subscriberLabels(metrics));
      metrics.streamCloses.inc({ transport: this.transport, reason });
    }
    log?.info(
      { ...this.fields(), duration_ms: round(performance.now() - this.openedAt), messages: subscription.delivered, reason, event: 'stream_close' },
      'stream closed',
    );
  }

  private opened(subscription: Subscription): void {
    this.subscription = subscription;
    this.openedAt = performance.now();
    const { metrics, log } = this.sinks;
    if (metrics) {
      metrics.openStreams.inc({ transport: this.transport });
      metrics.subscribers.inc(this.subscriberLabels(metrics));
    }
    log?.info({ ...this.fields(), event: 'stream_open' }, 'stream opened');
  }

  private subscriberLabels(metrics: GatewayMetrics): { route: string; consumer: string } {
    return { route: this.route, consumer: metrics.perConsumer ? (this.consumer ?? '') : '' };
  }

  private fields(): Record<string, unknown> {
    const { requestId, correlationId, clientIp, route, service, consumer } = this;
    return {
      request_id: requestId,
      ...(correlationId !== undefined ? { correlation_id: correlationId } : {}),
      transport: this.transport,
      channels: this.channels,
      route,
      service,
      ...(consumer !== undefined ? { consumer } : {}),
      client_ip: clientIp,
    };
  }
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
