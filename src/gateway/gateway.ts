import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Snapshot } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { createHub, createMemoryEngine, type Engine, type Hub } from '../pubsub/index.ts';
import { createInternalPubsubHandler, type InternalPubsubHandler } from '../pubsub/publisher/index.ts';
import { createUpstreamClient, type UpstreamClient } from '../proxy/index.ts';
import { createAdminHandler, createStatusHandler } from './admin-handler.ts';
import { createInternalHandler, type InternalAccess } from './internal-handler.ts';
import { listen, type ListenAddress } from './listeners.ts';
import { createProxyHandler } from './proxy-handler.ts';
import { writeErrorToSocket } from './respond.ts';
import { buildRuntimeState, type RuntimeState } from './state.ts';

export type ListenerName = 'proxy' | 'admin' | 'internal' | 'status';

export interface GatewayOptions {
  /** Addresses per listener; an empty list turns that listener off. */
  readonly listen: Readonly<Record<ListenerName, readonly ListenAddress[]>>;
  /** Who may reach the internal listener (allow-list, optional bearer token). */
  readonly internalAccess: InternalAccess;
  readonly snapshot: Snapshot;
  /** The enabled plugins the snapshot was validated against. */
  readonly registry: PluginRegistry;
  readonly trustedIps: readonly string[];
  readonly realIpHeader: string;
  readonly realIpRecursive: boolean;
  readonly maxHeaderSize: number;
  /** Bytes; 0 means no limit, as nginx's `client_max_body_size 0`. */
  readonly clientMaxBodySize: number;
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** How often a target taken out by passive health checks is probed. */
  readonly probeIntervalMs?: number;
  /** Makes the pub/sub engine (default: memory). The gateway owns it and closes it on stop. */
  readonly engine?: () => Engine;
}

/**
 * The running gateway: its listeners, the current runtime state and the upstream client.
 *
 * ```ts
 * const gateway = await Gateway.start(options);
 * gateway.addresses.proxy; // ['127.0.0.1:43121']
 * gateway.reload(newSnapshot);
 * await gateway.stop();
 * ```
 */
export class Gateway {
  readonly nodeId = randomUUID();
  private state: RuntimeState;
  private readonly servers: { name: ListenerName; server: Server; address: string }[] = [];
  /** Sockets handed over by `upgrade`; the HTTP server no longer tracks them. */
  private readonly upgraded = new Set<Duplex>();
  private readonly upstream: UpstreamClient;
  /** Pub/sub lives for the whole process: reloads swap policies, never channels. */
  private readonly engine: Engine;
  readonly hub: Hub;
  private publisher: InternalPubsubHandler | undefined;
  private stopping: Promise<void> | undefined;
  private connections = 0;

  private constructor(private readonly options: GatewayOptions) {
    this.engine = options.engine?.() ?? createMemoryEngine();
    this.hub = createHub({ engine: this.engine });
    this.state = buildRuntimeState(options.snapshot, options.registry, options.logger, this.hub);
    this.hub.setPolicies(this.state.channelPolicies);
    this.upstream = createUpstreamClient(options.probeIntervalMs === undefined ? {} : { probeIntervalMs: options.probeIntervalMs });
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const gateway = new Gateway(options);
    try {
      await gateway.bindAll();
    } catch (error) {
      await gateway.closeServers(0);
      await gateway.upstream.close();
      await gateway.hub.close();
      await gateway.engine.close();
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

  /**
   * Swaps in a new config. Requests in flight finish on the state they started with. Throws
   * (keeping the old config) when a plugin cannot compile the new one.
   */
  reload(snapshot: Snapshot): void {
    this.state = buildRuntimeState(snapshot, this.options.registry, this.options.logger, this.hub);
    this.hub.setPolicies(this.state.channelPolicies);
    this.upstream.retainUpstreams([...snapshot.upstreams.values()].map((upstream) => upstream.id));
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `drainTimeoutMs`, then closes
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
      await this.engine.close();
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
      trackUpgrade: (socket) => {
        this.upgraded.add(socket);
        socket.once('close', () => this.upgraded.delete(socket));
      },
    });
    const admin = createAdminHandler({ nodeId: this.nodeId, getState: () => this.state, connections: () => this.openConnections(), hub: this.hub });
    this.publisher = createInternalPubsubHandler({ hub: this.hub, ...(this.options.clientMaxBodySize > 0 ? { maxBodySize: this.options.clientMaxBodySize } : {}) });
    const internal = createInternalHandler(this.options.internalAccess, this.publisher);
    const handlers: Record<ListenerName, { request: (req: IncomingMessage, res: ServerResponse) => void; upgrade?: typeof proxy.upgrade }> = {
      proxy: { request: proxy.request, upgrade: proxy.upgrade },
      admin: { request: admin },
      internal,
      status: { request: createStatusHandler(() => this.state, () => this.isStopping) },
    };
    for (const name of ['proxy', 'internal', 'admin', 'status'] as const) {
      for (const address of this.options.listen[name]) {
        const server = this.createHttpServer(handlers[name].request, handlers[name].upgrade);
        const bound = await listen(server, name, address);
        this.servers.push({ name, server, address: bound });
      }
    }
  }

  private createHttpServer(
    onRequest: (req: IncomingMessage, res: ServerResponse) => void,
    onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  ): Server {
    const server = createServer(
      {
        maxHeaderSize: this.options.maxHeaderSize,
        // Streams (SSE, long uploads) may legitimately run for hours: no whole-request timeout.
        requestTimeout: 0,
        headersTimeout: 60_000,
        keepAliveTimeout: 60_000,
      },
      onRequest,
    );
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      writeErrorToSocket(socket, error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST');
    });
    server.on('connection', (socket: Duplex) => {
      this.connections++;
      socket.once('close', () => this.connections--);
    });
    if (onUpgrade) server.on('upgrade', onUpgrade);
    else server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => writeErrorToSocket(socket, 'BAD_REQUEST'));
    return server;
  }

  private openConnections(): number {
    return this.connections;
  }

  private async closeServers(drainTimeoutMs: number): Promise<void> {
    const closing = this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const { server } of this.servers) server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const { server } of this.servers) server.closeAllConnections();
      for (const socket of this.upgraded) socket.destroy();
    }, drainTimeoutMs);
    timer.unref();
    // Keep-alive connections that finish their last request become idle: close them too.
    const idleSweep = setInterval(() => {
      for (const { server } of this.servers) server.closeIdleConnections();
    }, 50);
    idleSweep.unref();
    try {
      await Promise.all(closing);
    } finally {
      clearTimeout(timer);
      clearInterval(idleSweep);
    }
    for (const socket of this.upgraded) socket.destroy();
  }
}
