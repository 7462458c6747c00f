/**
 * The gateway's Prometheus metrics, one Registry per Gateway (tests run many gateways in one
 * process; nothing goes to prom-client's global registry). Names follow Kong's prometheus
 * plugin where it has a counterpart (`kong_http_requests_total` → `sluice_http_requests_total`).
 *
 * ```ts
 * const metrics = new GatewayMetrics({ hub, connections: () => open, perConsumer: false });
 * const meter = metrics.meter(route, service);   // cached per route object, i.e. per snapshot
 * meter.count(200); meter.latency.observe(3.2);  // per request: field increments
 * await metrics.registry.metrics();              // the text for GET /metrics
 * ```
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Route, Service } from '../config/types.ts';
import type { Hub, HubCounters } from '../pubsub/hub.ts';
import { CounterFamily, HistogramFamily, type CounterCell, type HistogramCell } from './metric-families.ts';

/** Kong's prometheus plugin buckets for its `*_latency_ms` histograms. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 30000, 60000,
];

export interface MetricsOptions {
  /** Read at scrape time for the nchan-like channel and message figures. */
  readonly hub: Hub;
  /** Open client connections on every listener, read at scrape time. */
  readonly connections: () => number;
  /** Kong's `per_consumer`: fill the `consumer` label of `sluice_subscribers` (else ""). */
  readonly perConsumer: boolean;
}

export type ReloadResult = 'ok' | 'failed';

/** Counters of one route, resolved once per route object (so once per snapshot). */
export class RouteMeter {
  readonly latency: HistogramCell;
  readonly upstreamLatency: HistogramCell;
  readonly ingress: CounterCell;
  readonly egress: CounterCell;
  private readonly byCode: (CounterCell | undefined)[] = [];
  private rejections: CounterCell | undefined;

  constructor(
    private readonly metrics: GatewayMetrics,
    readonly service: string,
    readonly route: string,
  ) {
    this.latency = metrics.requestLatency.cell([service, route]);
    this.upstreamLatency = metrics.upstreamLatency.cell([service, route]);
    this.ingress = metrics.bandwidth.cell([service, route, 'ingress']);
    this.egress = metrics.bandwidth.cell([service, route, 'egress']);
  }

  count(status: number): void {
    let cell = this.byCode[status];
    if (cell === undefined) this.byCode[status] = cell = this.metrics.requests.cell([this.service, this.route, String(status)]);
    cell.value++;
  }

  rateLimited(): void {
    this.rejections ??= this.metrics.rateLimitRejections.cell([this.service, this.route]);
    this.rejections.value++;
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly perConsumer: boolean;
  readonly requests = new CounterFamily('sluice_http_requests_total', 'HTTP requests by service, route and status code (Kong: kong_http_requests_total)', ['service', 'route', 'code']);
  readonly requestLatency = new HistogramFamily(
    'sluice_request_latency_ms',
    'Total time from the first byte of the request to the end of the response, in ms (Kong: kong_request_latency_ms)',
    ['service', 'route'],
    LATENCY_BUCKETS_MS,
  );
  readonly upstreamLatency = new HistogramFamily(
    'sluice_upstream_latency_ms',
    'Time until the upstream sent its response head, in ms (Kong: kong_upstream_latency_ms)',
    ['service', 'route'],
    LATENCY_BUCKETS_MS,
  );
  readonly bandwidth = new CounterFamily('sluice_bandwidth_bytes', 'Bytes read from (ingress) and written to (egress) clients (Kong: kong_bandwidth_bytes)', ['service', 'route', 'direction']);
  readonly rateLimitRejections = new CounterFamily('sluice_rate_limit_rejections_total', 'Requests refused by the rate-limiting plugin', ['service', 'route']);
  readonly openStreams: Gauge<'transport'>;
  readonly subscribers: Gauge<'route' | 'consumer'>;
  readonly streamCloses: Counter<'transport' | 'reason'>;
  readonly configReloads: Counter<'result'>;
  private readonly meters = new WeakMap<Route, RouteMeter>();
  private readonly noRoute: RouteMeter;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.perConsumer = options.perConsumer;
    for (const family of [this.requests, this.requestLatency, this.upstreamLatency, this.bandwidth, this.rateLimitRejections]) this.registry.registerMetric(family.metric);
    this.openStreams = new Gauge({ name: 'sluice_open_streams', help: 'Open subscriber connections by transport', labelNames: ['transport'], registers });
    this.subscribers = new Gauge({ name: 'sluice_subscribers', help: 'Open subscribers by route and consumer (consumer only with metrics_per_consumer)', labelNames: ['route', 'consumer'], registers });
    this.streamCloses = new Counter({ name: 'sluice_stream_closes_total', help: 'Subscriber connections closed, by transport and reason', labelNames: ['transport', 'reason'], registers });
    this.configReloads = new Counter({ name: 'sluice_config_reloads_total', help: 'Configuration reloads by result (ok, failed)', labelNames: ['result'], registers });
    for (const result of ['ok', 'failed'] as const) this.configReloads.inc({ result }, 0);
    new Gauge({ name: 'sluice_open_connections', help: 'Open client connections on all listeners (Kong: kong_nginx_connections_total{state="active"})', registers, collect() { this.set(options.connections()); } });
    registerHubMetrics(this.registry, options.hub);
    collectDefaultMetrics({ register: this.registry });
    this.noRoute = new RouteMeter(this, '', '');
  }

  /** The meter of a route (service and route names, or ids); `''` labels when no route matched. */
  meter(route: Route | undefined, service: Service | undefined): RouteMeter {
    if (route === undefined) return this.noRoute;
    let meter = this.meters.get(route);
    if (meter === undefined) {
      meter = new RouteMeter(this, service === undefined ? '' : (service.name ?? service.id), route.name ?? route.id);
      this.meters.set(route, meter);
    }
    return meter;
  }

  configReload(result: ReloadResult): void {
    this.configReloads.inc({ result });
  }
}

/**
 * nchan_stub_status's figures, read from the hub once per scrape (every collect shares the
 * one `hub.counters()` call of that scrape).
 */
function registerHubMetrics(registry: Registry, hub: Hub): void {
  const registers = [registry];
  let pending: Promise<HubCounters> | undefined;
  const read = (): Promise<HubCounters> => {
    pending ??= hub.counters().finally(() => (pending = undefined));
    return pending;
  };
  const gauge = (name: string, help: string, pick: (c: HubCounters) => number) =>
    new Gauge({ name, help, registers, async collect() { this.set(pick(await read())); } });
  const counter = (name: string, help: string, pick: (c: HubCounters) => number) =>
    new Counter({
      name,
      help,
      registers,
      async collect() {
        // The hub keeps the running total; the counter mirrors it.
        const value = pick(await read());
        this.reset();
        this.inc(value);
      },
    });
  gauge('sluice_pubsub_channels', 'Channels that exist (nchan: channels)', (c) => c.channels);
  gauge('sluice_pubsub_stored_messages', 'Messages held in channel buffers (nchan: stored messages)', (c) => c.stored);
  gauge('sluice_pubsub_channel_subscribers', 'Subscribers summed over channels; a multiplexed subscriber counts once per channel (nchan: subscribers)', (c) => c.subscribers);
  counter('sluice_messages_published_total', 'Messages published (nchan: total published messages)', (c) => c.published);
  counter('sluice_messages_delivered_total', 'Messages handed to subscribers', (c) => c.delivered);
  counter('sluice_messages_dropped_total', 'Messages discarded from the queues of subscribers closed as slow consumers', (c) => c.dropped);
  counter('sluice_slow_consumer_closes_total', 'Subscribers closed because their queue overflowed', (c) => c.slowConsumers);
}
