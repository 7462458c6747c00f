import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Snapshot } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import { createRequestObserver } from '../observability/request-observer.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { createHub, createMemoryEngine, type Engine, type Hub } from '../pubsub/index.ts';
import type { InternalPubsubHandler } from '../pubsub/publisher/index.ts';
import { createUpstreamClient, type UpstreamClient } from '../proxy/index.ts';
import { createAdminHandler, createStatusHandler } from './admin-handler.ts';
import { createInternalHandler, type InternalAccess } from './internal-handler.ts';
import { logInternalRequests } from './internal-access-log.ts';
import { createInternalPublisher, type InternalPublisherUpstream } from './internal-publisher.ts';
import { bindListener, closeListeners, type BoundListener } from './listener-binding.ts';
import type { ListenAddress } from './listeners.ts';
import { createProxyHandler } from './proxy-handler.ts';
import type { Http2Limits } from './servers.ts';
import { ListenerTls, type ListenerTlsSettings } from './tls/listener-tls.ts';
import { admittedRequest } from './admitted-request.ts';
import { recheckStream } from './recheck.ts';
import { buildRuntimeState, type RuntimeState } from './state.ts';
import { StreamRegistry, type RecheckSummary } from './streams.ts';

export type ListenerName = 'proxy' | 'admin' | 'internal' | 'status';

/** Kong's `nginx_admin_client_max_body_size` default (10m). */
export const DEFAULT_ADMIN_MAX_BODY_SIZE = 10 * 1024 * 1024;

export interface GatewayOptions {
  /** Addresses per listener; an empty list turns that listener off. */
  readonly listen: Readonly<Record<ListenerName, readonly ListenAddress[]>>;
  /** Who may reach the internal listener (allow-list, optional bearer token). */
  readonly internalAccess: InternalAccess;
  /** `internal_publisher_upstream`: the app every internal publish goes through first. */
  readonly internalPublisherUpstream?: InternalPublisherUpstream;
  readonly snapshot: Snapshot;
  /** The enabled plugins the snapshot was validated against. */
  readonly registry: PluginRegistry;
  readonly trustedIps: readonly string[];
  readonly realIpHeader: string;
  readonly realIpRecursive: boolean;
  readonly maxHeaderSize: number;
  /** Limits of `http2` listeners (settings `http2_*`); default: `DEFAULT_HTTP2_LIMITS` (servers.ts). */
  readonly http2?: Http2Limits;
  /** Bytes; 0 means no limit, as nginx's `client_max_body_size 0`. */
  readonly clientMaxBodySize: number;
  /** Largest Admin API request body (`POST /config`) in bytes; 0 = no limit. Default 10 MiB. */
  readonly adminMaxBodySize?: number;
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** How often a target taken out by passive health checks is probed. */
  readonly probeIntervalMs?: number;
  /** Verify upstream certificates when a service leaves `tls_verify` unset (default true; setting `upstream_tls_verify`). */
  readonly upstreamTlsVerify?: boolean;
  /** Prometheus metrics on the admin listener's `/metrics` (default on). */
  readonly metrics?: boolean;
  /** Kong's `per_consumer`: label subscriber gauges with the consumer (default off). */
  readonly metricsPerConsumer?: boolean;
  /** One log line per request and per stream open/close (default on). */
  readonly accessLog?: boolean;
  /** Where access lines go (default: `logger`); `sluice start` gives a buffered one. */
  readonly accessLogger?: Logger;
  /** An engine shared with other gateways (the gateway neither creates nor closes it); default: its own memory engine. */
  readonly engine?: Engine;
  /** Set in worker processes: sent as `X-Sluice-Worker` on every response (which worker answered). */
  readonly workerTag?: string;
  /** Told the config text once the Admin API's `POST /config` applied it (workers relay it to the others). */
  readonly onAdminConfig?: (text: string) => void;
  /** `ssl` listeners: the default certificate (`ssl_cert`) and the internal listener's client CA. */
  readonly tls?: ListenerTlsSettings;
}

/** What `reload` did: the config now running and what happened to the open streams. */
export interface ReloadResult extends RecheckSummary {
  readonly configHash: string;
}

/**
 * The running gateway: its listeners, the current runtime state and the upstream client.
 *
 * ```ts
 * const gateway = await Gateway.start(options);
 * gateway.addresses.proxy; // ['127.0.0.1:43121']
 * await gateway.reload(newSnapshot); // { configHash, kept: 12, closed: 1, closedBy: { RECHECK_FAILED: 1 } }
 * await gateway.stop();
 * ```
 */
export class Gateway {
  readonly nodeId = randomUUID();
  private state: RuntimeState;
  private readonly servers: BoundListener[] = [];
  /** Certificates of the `ssl` listeners, swapped with the config. */
  private readonly tls: ListenerTls;
  /** Open connections, and the sockets handed over by `upgrade` (the HTTP server no longer tracks them). */
  private readonly open: OpenSockets = { connections: 0, upgraded: new Set() };
  // One `close` listener each for every socket, not a closure and a `once` wrapper per
  // connection (≈0.25 KiB each on every idle stream); a socket closes only once.
  private readonly connectionClosed = onClose(this.open, true);
  private readonly upgradedClosed = onClose(this.open, false);
  private readonly upstream: UpstreamClient;
  /** Pub/sub lives for the whole process: reloads swap policies, never channels. */
  private readonly engine: Engine;
  readonly hub: Hub;
  private publisher: InternalPubsubHandler | undefined;
  /** This gateway's own registry; undefined when metrics are off. */
  readonly metrics: GatewayMetrics | undefined;
  private stopping: Promise<void> | undefined;
  /** Open subscriber streams, re-checked on every reload. */
  private readonly streams: StreamRegistry;

  private constructor(private readonly options: GatewayOptions) {
    this.engine = options.engine ?? createMemoryEngine();
    this.hub = createHub({ engine: this.engine });
    this.state = buildRuntimeState(options.snapshot, options.registry, options.logger, this.hub);
    this.tls = new ListenerTls(options.tls ?? {}, options.snapshot);
    const pdk = { logger: options.logger, maxBodySize: options.clientMaxBodySize };
    this.streams = new StreamRegistry({
      current: () => this.state,
      check: (admitted, shape, state) => recheckStream(admitted, shape, state, pdk, options.logger),
      logger: options.logger,
    });
    this.hub.setPolicies(this.state.channelPolicies);
    this.metrics = options.metrics === false ? undefined : new GatewayMetrics({ hub: this.hub, connections: () => this.open.connections, perConsumer: options.metricsPerConsumer ?? false });
    this.upstream = createUpstreamClient({
      ...(options.probeIntervalMs === undefined ? {} : { probeIntervalMs: options.probeIntervalMs }),
      ...(options.upstreamTlsVerify === undefined ? {} : { tlsVerify: options.upstreamTlsVerify }),
    });
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const gateway = new Gateway(options);
    try {
      await gateway.bindAll();
    } catch (error) {
      await gateway.closeServers(0);
      await gateway.upstream.close();
      await gateway.hub.close();
      if (!options.engine) await gateway.engine.close();
      throw error;
    }
    return gateway;
  }

  /** Bound addresses per listener, e.g. `{ proxy: ['127.0.0.1:8000'], admin: [...], internal: [], status: [] }`. */
  get addresses(): Record<ListenerName, string[]> {
    const result: Record<ListenerName, string[]> = { proxy: [], admin: [], internal: [], status: [] };
    for (const { name, address } of this.servers) result[name].push(address);
    return result;
  }

  get current(): RuntimeState {
    return this.state;
  }

  /** Subscriber streams open right now (held for re-checks). */
  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Swaps in a new config at once (requests in flight finish on theirs), then re-checks every
   * open subscriber stream: it stays open while its route exists and its plugins still admit its
   * request, else it ends with a reconnect hint (ROUTE_REMOVED, ROUTE_CHANGED, RECHECK_FAILED;
   * see `recheckStream`). New TLS handshakes get the new snapshot's certificates; open TLS
   * connections keep theirs. Throws synchronously, keeping the old config and every stream, when a
   * plugin cannot compile the new one (or a certificate cannot be loaded); the promise (never rejected) tells what the re-check did.
   * SIGHUP, `--watch` and the Admin API's `POST /config` all come here. Counted in
   * `sluice_config_reloads_total`; a caller whose config fails before it gets here (a file that
   * does not parse) counts it with `gateway.metrics?.configReload('failed')`.
   */
  reload(snapshot: Snapshot): Promise<ReloadResult> {
    let state: RuntimeState;
    try {
      state = buildRuntimeState(snapshot, this.options.registry, this.options.logger, this.hub);
      // New handshakes get the new certificates; open TLS connections keep theirs.
      this.tls.update(snapshot);
    } catch (error) {
      this.metrics?.configReload('failed');
      throw error;
    }
    this.metrics?.configReload('ok');
    this.state = state;
    this.hub.setPolicies(state.channelPolicies);
    this.upstream.retain(snapshot);
    return this.streams.recheck(state).then((summary) => {
      if (summary.closed > 0) this.options.logger.info({ event: 'streams_rechecked', config_hash: snapshot.hash, ...summary }, 'reload closed streams it no longer admits');
      return { configHash: snapshot.hash, ...summary };
    });
  }

  /**
   * Graceful drain: stops accepting, ends every subscriber stream with a reconnect hint
   * (HUB_CLOSED), lets in-flight requests finish for up to `drainTimeoutMs`, then closes
   * whatever is left. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const draining = this.closeServers(this.options.drainTimeoutMs);
      // Open subscriber streams never finish by themselves: end them (each transport tells
      // its client to reconnect elsewhere) so the drain only waits for real requests.
      this.publisher?.close();
      await this.hub.close();
      await draining;
      await this.upstream.close();
      if (!this.options.engine) await this.engine.close();
    })();
    return this.stopping;
  }

  private get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  private async bindAll(): Promise<void> {
    const { logger } = this.options;
    const proxy = createProxyHandler({
      getState: () => this.state,
      upstream: this.upstream,
      trustedIps: this.options.trustedIps,
      realIpHeader: this.options.realIpHeader,
      realIpRecursive: this.options.realIpRecursive,
      clientMaxBodySize: this.options.clientMaxBodySize,
      logger,
      isStopping: () => this.isStopping,
      observer: createRequestObserver({ metrics: this.metrics, logger: this.options.accessLogger ?? logger, accessLog: this.options.accessLog ?? true }),
      trackUpgrade: (socket) => {
        this.open.upgraded.add(socket);
        // A connection this gateway counts forgets itself on close (one listener fewer on
        // every detached stream); a TLS socket is not the TCP one that was counted.
        if (!socket.listeners('close').includes(this.connectionClosed)) socket.on('close', this.upgradedClosed);
      },
      holdStreams: (ctx, hub, stream) => this.streams.hold(admittedRequest(ctx), hub, stream),
    });
    const admin = createAdminHandler({
      nodeId: this.nodeId,
      getState: () => this.state,
      connections: () => this.openConnections(),
      hub: this.hub,
      registry: this.options.registry,
      reload: (snapshot, text) => {
        const done = this.reload(snapshot); // throws, keeping the old config, before anyone is told
        this.options.onAdminConfig?.(text);
        return done;
      },
      logger,
      maxBodySize: this.options.adminMaxBodySize ?? DEFAULT_ADMIN_MAX_BODY_SIZE,
      metrics: this.metrics,
    });
    const upstream = this.options.internalPublisherUpstream;
    this.publisher = createInternalPublisher({ hub: this.hub, maxBodySize: this.options.clientMaxBodySize, logger, ...(upstream ? { upstream } : {}) });
    const internal = createInternalHandler(this.options.internalAccess, this.publisher);
    const accessLogger = this.options.accessLog === false ? undefined : (this.options.accessLogger ?? logger);
    const handlers: Record<ListenerName, { request: (req: IncomingMessage, res: ServerResponse) => void; upgrade?: typeof proxy.upgrade }> = {
      proxy: { request: proxy.request, upgrade: proxy.upgrade },
      admin: { request: admin },
      internal: { request: accessLogger ? logInternalRequests(internal.request, accessLogger) : internal.request, upgrade: internal.upgrade },
      status: { request: createStatusHandler(() => this.state, () => this.isStopping) },
    };
    for (const name of ['proxy', 'internal', 'admin', 'status'] as const) {
      for (const address of this.options.listen[name]) {
        const options = {
          onRequest: handlers[name].request,
          onUpgrade: handlers[name].upgrade,
          bodyLimit: this.bodyLimitOf(name),
          maxHeaderSize: this.options.maxHeaderSize,
          workerTag: this.options.workerTag,
          http2: this.options.http2,
        };
        this.servers.push(await bindListener(name, address, options, this.tls, (socket) => this.countConnection(socket)));
      }
    }
  }

  /** The body size a listener accepts (0 = any), for answering `Expect: 100-continue`. */
  private bodyLimitOf(name: ListenerName): number {
    if (name === 'admin') return this.options.adminMaxBodySize ?? DEFAULT_ADMIN_MAX_BODY_SIZE;
    return name === 'status' ? 0 : this.options.clientMaxBodySize;
  }

  private openConnections(): number {
    return this.open.connections;
  }

  private countConnection(socket: Duplex): void {
    this.open.connections++;
    socket.on('close', this.connectionClosed);
  }

  private closeServers(drainTimeoutMs: number): Promise<void> {
    return closeListeners(this.servers, this.open.upgraded, drainTimeoutMs);
  }
}

/** What the gateway keeps of its connections. */
interface OpenSockets {
  connections: number;
  readonly upgraded: Set<Duplex>;
}

/** A `close` listener (called on the socket): uncounts a `counted` connection, forgets an upgraded socket. */
function onClose(open: OpenSockets, counted: boolean): (this: Duplex) => void {
  return function closed(this: Duplex): void {
    if (counted) open.connections--;
    open.upgraded.delete(this);
  };
}
