import { Pool } from 'undici';
import type { Service, Snapshot, Upstream } from '../config/types.ts';
import { GatewayError } from '../gateway/errors.ts';
import { createBalancer, parseTarget, type Balancer } from './balancer.ts';
import { createHealthChecker, type HealthChecker } from './health.ts';
import type { UpstreamClientOptions } from './upstream-client.ts';
import { tlsConnectOptions, tlsConnector, upstreamTls, type UpstreamPki, type UpstreamTls } from './upstream-tls.ts';

export interface UpstreamEntry {
  readonly fingerprint: string;
  readonly upstream: Upstream;
  readonly balancer: Balancer;
  readonly health: HealthChecker;
}

/** Per-service settings computed once per Service object (a snapshot never mutates it). */
export interface ServiceEntry {
  /** Set for https/wss/grpcs services: how the upstream is verified and what we present. */
  readonly tls: UpstreamTls | undefined;
  readonly connectTimeout: number;
  readonly readTimeout: number;
  /** undici refreshes its headers timer on every body chunk written, so it also bounds write stalls. */
  readonly uploadHeadersTimeout: number;
  readonly retries: number;
  /** Pools by `host:port` for this service's scheme/timeouts/TLS profile. */
  readonly pools: Map<string, Pool>;
  /** What this service's pools are keyed by besides the origin. */
  readonly poolProfile: string;
}

export function originHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** One upstream client's state: per-service settings, connection pools, balancer + health per upstream. */
export class UpstreamRegistry {
  private readonly keepAliveTimeout: number;
  private readonly pools = new Map<string, Pool>();
  private readonly services = new WeakMap<Service, ServiceEntry>();
  private readonly upstreamsByObject = new WeakMap<Upstream, UpstreamEntry>();
  private readonly upstreamsById = new Map<string, UpstreamEntry>();
  private closed = false;

  constructor(private readonly options: UpstreamClientOptions) {
    this.keepAliveTimeout = options.keepAliveTimeoutMs ?? 60_000;
  }

  /** `pki`: the snapshot the service comes from, where its certificate ids point. */
  serviceEntry(service: Service, pki?: UpstreamPki): ServiceEntry {
    let entry = this.services.get(service);
    if (entry === undefined) {
      const tls = upstreamTls(service, pki, this.options.tlsVerify ?? true);
      entry = {
        tls,
        connectTimeout: service.connect_timeout,
        readTimeout: service.read_timeout,
        uploadHeadersTimeout: Math.max(service.read_timeout, service.write_timeout),
        retries: service.retries,
        pools: new Map(),
        poolProfile: `${service.connect_timeout}|${tls?.fingerprint ?? 'plain'}`,
      };
      this.services.set(service, entry);
    }
    return entry;
  }

  poolFor(entry: ServiceEntry, host: string, port: number, address: string): Pool {
    let pool = entry.pools.get(address);
    // A pool retired by a reload (see retain) may still be named by a request of the old config;
    // after close() a request still retrying gets no new connection.
    if (this.closed) throw new GatewayError('SHUTTING_DOWN');
    if (pool !== undefined && !pool.closed && !pool.destroyed) return pool;
    const origin = `${entry.tls ? 'https' : 'http'}://${originHost(host)}:${port}`;
    const key = `${origin}|${entry.poolProfile}`;
    pool = this.pools.get(key);
    if (pool === undefined) {
      // SNI: undici sends the request's Host header name (Kong's `proxy_ssl_name $upstream_host`).
      pool = new Pool(origin, {
        connect: entry.tls ? tlsConnector({ timeout: entry.connectTimeout, ...tlsConnectOptions(entry.tls) }) : { timeout: entry.connectTimeout },
        keepAliveTimeout: this.keepAliveTimeout,
        connections: this.options.connectionsPerOrigin ?? null,
        pipelining: 1,
      });
      this.pools.set(key, pool);
    }
    entry.pools.set(address, pool);
    return pool;
  }

  /** Balancer + health for an upstream, reused across snapshots while its config is unchanged. */
  upstreamEntry(upstream: Upstream, svc?: ServiceEntry): UpstreamEntry {
    const cached = this.upstreamsByObject.get(upstream);
    if (cached !== undefined) {
      if (svc !== undefined) cached.health.useTls(svc.tls);
      return cached;
    }
    const fingerprint = JSON.stringify(upstream);
    const previous = this.upstreamsById.get(upstream.id);
    let entry: UpstreamEntry;
    if (previous !== undefined && previous.fingerprint === fingerprint) {
      entry = previous;
    } else {
      const health = previous?.health ?? createHealthChecker(upstream, { probeIntervalMs: this.options.probeIntervalMs });
      if (previous !== undefined) health.update(upstream);
      const balancer = createBalancer(upstream, (address) => health.isHealthy(address));
      entry = { fingerprint, upstream, balancer, health };
      this.upstreamsById.set(upstream.id, entry);
    }
    this.upstreamsByObject.set(upstream, entry);
    if (svc !== undefined) entry.health.useTls(svc.tls);
    return entry;
  }

  health(upstreamId: string): HealthChecker | undefined {
    return this.upstreamsById.get(upstreamId)?.health;
  }

  /** Drops balancer/health state of upstreams not in `upstreamIds`. */
  retainUpstreams(upstreamIds: Iterable<string>): void {
    const keep = new Set(upstreamIds);
    for (const [id, entry] of this.upstreamsById) {
      if (keep.has(id)) continue;
      entry.health.close();
      this.upstreamsById.delete(id);
    }
  }

  /**
   * Adopts a new config: drops state of upstreams it no longer has and retires the pools no
   * service of it would use (another origin, or other timeouts / TLS settings): they take no
   * new requests and close once their in-flight ones finish.
   */
  retain(snapshot: Snapshot): void {
    this.retainUpstreams([...snapshot.upstreams.values()].map((u) => u.id));
    const live = new Set<string>();
    for (const service of snapshot.services.values()) {
      const entry = this.serviceEntry(service, snapshot);
      const scheme = entry.tls ? 'https' : 'http';
      const upstream = snapshot.upstreams.get(service.host);
      const origins = upstream === undefined ? [{ host: service.host, port: service.port }] : upstream.targets.map((t) => parseTarget(t.target));
      for (const { host, port } of origins) live.add(`${scheme}://${originHost(host)}:${port}|${entry.poolProfile}`);
    }
    for (const [key, pool] of this.pools) {
      if (live.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => undefined);
    }
  }

  /** Stops probes and destroys pooled connections. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.upstreamsById.values()) entry.health.close();
    this.upstreamsById.clear();
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((pool) => pool.destroy()));
  }
}
