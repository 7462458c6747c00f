/**
 * What the proxy listener records when a request is done: the route's counters (requests by
 * status, latency, upstream latency, bandwidth, rate-limit refusals) and one access-log line.
 * Subscriber streams get a {@link StreamTracker} for their open/close lines.
 *
 * ```ts
 * const observer = createRequestObserver({ metrics, logger, accessLog: true });
 * // in the handler, once the response is over (finished, failed or abandoned):
 * observer?.done(ctx, req, res, socketOnArrival, false);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestContext } from '../gateway/context.ts';
import type { Logger } from './logger.ts';
import type { GatewayMetrics } from './metrics.ts';
import { round, StreamTracker, type StreamInfo, type StreamSinks } from './stream-tracker.ts';

export interface ObserverOptions {
  /** Undefined when metrics are off. */
  readonly metrics: GatewayMetrics | undefined;
  readonly logger: Logger;
  /** One line per request and per stream open/close, at `info`. */
  readonly accessLog: boolean;
}

/** The plugin that refuses over-limit requests; its answers count as rate-limit rejections. */
const RATE_LIMITING = 'rate-limiting';

/** nginx's 499: the client went away before an answer was sent. */
export const CLIENT_CLOSED = 499;

/** Bytes already attributed to earlier requests of a keep-alive connection. */
interface Counted {
  read: number;
  written: number;
}

export class RequestObserver {
  private readonly metrics: GatewayMetrics | undefined;
  private readonly log: Logger | undefined;
  /** Shared by every stream tracker (one object per open stream otherwise). */
  private readonly streamSinks: StreamSinks;
  private readonly counted = new WeakMap<Duplex, Counted>();

  constructor(options: ObserverOptions) {
    this.metrics = options.metrics;
    this.log = options.accessLog && options.logger.isLevelEnabled('info') ? options.logger : undefined;
    this.streamSinks = { metrics: this.metrics, log: this.log };
  }

  /**
   * The request is over. `ctx` is undefined when the request failed before it was parsed (a bad
   * path). An upgrade whose socket was handed over without an HTTP answer counts as 101.
   */
  done(ctx: RequestContext | undefined, req: IncomingMessage, res: ServerResponse, socket: Duplex, upgrade: boolean): void {
    this.record(summarize(ctx, req, res, socket, upgrade));
  }

  /**
   * For a stream that outlives its request (a detached subscriber): what `done` needs, taken
   * now (the head is out, nothing about the request changes any more), so the request can be
   * collected; pass it to `record` when the stream ends (latency and bytes are read then).
   */
  later(ctx: RequestContext | undefined, req: IncomingMessage, res: ServerResponse, socket: Duplex, upgrade: boolean): RequestSummary {
    return summarize(ctx, req, res, socket, upgrade);
  }

  /** The access log line and the route's metrics for a request (see `done` and `later`). */
  record(request: RequestSummary): void {
    const { status, socket } = request;
    const latency = request.startedAt === undefined ? 0 : performance.now() - request.startedAt;
    // The connection's bytes since the previous request on it: exact over a connection's life.
    // (`socket` was taken when the request arrived: `req.socket` may be gone by now.)
    const { bytesRead: read = 0, bytesWritten: written = 0 } = socket as Partial<Socket>;
    let last = this.counted.get(socket);
    if (last === undefined) this.counted.set(socket, (last = { read: 0, written: 0 }));
    const bytesIn = read - last.read;
    const bytesOut = written - last.written;
    last.read = read;
    last.written = written;

    const match = request.match;
    if (this.metrics) {
      const meter = this.metrics.meter(match?.route, match?.service);
      meter.count(status);
      if (request.startedAt !== undefined) meter.latency.observe(latency);
      if (request.upstreamLatencyMs !== undefined) meter.upstreamLatency.observe(request.upstreamLatencyMs);
      meter.ingress.value += bytesIn;
      meter.egress.value += bytesOut;
      if (request.rateLimited) meter.rateLimited();
    }
    if (this.log) {
      const { consumer, correlation } = request;
      this.log.info(
        {
          event: 'access',
          request_id: request.id,
          ...(typeof correlation === 'string' ? { correlation_id: correlation } : {}),
          method: request.method,
          path: request.path,
          status,
          route: match ? (match.route.name ?? match.route.id) : undefined,
          service: match?.service ? (match.service.name ?? match.service.id) : undefined,
          consumer: consumer ? (consumer.username ?? consumer.id) : undefined,
          latency_ms: round(latency),
          upstream_latency_ms: request.upstreamLatencyMs === undefined ? undefined : round(request.upstreamLatencyMs),
          bytes_in: bytesIn,
          bytes_out: bytesOut,
          client_ip: request.clientIp,
        },
        'request',
      );
    }
  }

  trackStream(ctx: RequestContext, transport: string, channels: readonly string[]): StreamTracker {
    const match = ctx.match;
    const consumer = ctx.consumer;
    const correlation = ctx.shared['correlation_id'];
    const info: StreamInfo = {
      requestId: ctx.id,
      ...(typeof correlation === 'string' ? { correlationId: correlation } : {}),
      clientIp: ctx.clientIp,
      route: match ? (match.route.name ?? match.route.id) : '',
      service: match?.service ? (match.service.name ?? match.service.id) : '',
      consumer: consumer ? (consumer.username ?? consumer.id) : undefined,
    };
    return new StreamTracker(this.streamSinks, info, transport, channels);
  }
}

/** What the access log and the route's metrics record of one request. */
export interface RequestSummary {
  readonly status: number;
  /** Undefined when the request failed before it was parsed. */
  readonly startedAt: number | undefined;
  readonly match: RequestContext['match'];
  readonly upstreamLatencyMs: number | undefined;
  readonly rateLimited: boolean;
  readonly id: string | undefined;
  readonly correlation: unknown;
  readonly method: string | undefined;
  readonly path: string;
  readonly consumer: RequestContext['consumer'];
  readonly clientIp: string | undefined;
  readonly socket: Duplex;
}

function summarize(ctx: RequestContext | undefined, req: IncomingMessage, res: ServerResponse, socket: Duplex, upgrade: boolean): RequestSummary {
  return {
    status: res.headersSent ? res.statusCode : upgrade ? 101 : CLIENT_CLOSED,
    startedAt: ctx?.startedAt,
    match: ctx?.match,
    upstreamLatencyMs: ctx?.upstreamLatencyMs,
    rateLimited: ctx?.exit !== undefined && ctx.exitedBy === RATE_LIMITING,
    id: ctx?.id,
    correlation: ctx?.shared['correlation_id'],
    method: req.method,
    path: ctx?.path ?? (req.url ?? '/').split('?')[0] ?? '/',
    consumer: ctx?.consumer,
    clientIp: ctx?.clientIp ?? (socket as Partial<Socket>).remoteAddress,
    socket,
  };
}

/** Undefined when there is nothing to record (metrics and access log both off). */
export function createRequestObserver(options: ObserverOptions): RequestObserver | undefined {
  if (options.metrics === undefined && !options.accessLog) return undefined;
  return new RequestObserver(options);
}
