import { Pool } from 'undici';
import type { Service, Upstream } from '../config/types.ts';
import { createBalancer, type Balancer } from './balancer.ts';
import { createHealthChecker, type HealthChecker } from './health.ts';
import type { UpstreamClientOptions } from './upstream-client.ts';

export interface UpstreamEntry {
  readonly fingerprint: string;
  readonly upstream: Upstream;
  readonly balancer: Balancer;
  readonly health: HealthChecker;
}

/** Per-service settings computed once per Service object (a snapshot never mutates it). */
export interface ServiceEntry {
  readonly tls: boolean;
  readonly verify: boolean;
  readonly connectTimeout: number;
  readonly readTimeout: number;
  /** undici refreshes its headers timer on every body chunk written, so it also bounds write stalls. */
  readonly uploadHeadersTimeout: number;
  readonly retries: number;
  /** Pools by `host:port` for this service's scheme/timeouts. */
  readonly pools: Map<string, Pool>;
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

  constructor(private readonly options: UpstreamClientOptions) {
    this.keepAliveTimeout = options.keepAliveTimeoutMs ?? 60_000;
  }

  serviceEntry(service: Service): ServiceEntry {
    let entry = this.services.get(service);
    if (entry === undefined) {
      const tls = service.protocol === 'https' || service.protocol === 'wss' || service.protocol === 'grpcs';
      entry = {
        tls,
        // Kong's tls_verify defaults to null: the upstream certificate is not verified.
        verify: service.tls_verify === true,
        connectTimeout: service.connect_timeout,
        readTimeout: service.read_timeout,
        uploadHeadersTimeout: Math.max(service.read_timeout, service.write_timeout),
        retries: service.retries,
        pools: new Map(),
      };
      this.services.set(service, entry);
    }
    return entry;
  }

  poolFor(entry: ServiceEntry, host: string, port: number, address: string): Pool {
    let pool = entry.pools.get(address);
    if (pool !== undefined) return pool;
    const origin = `${entry.tls ? 'https' : 'http'}://${originHost(host)}:${port}`;
    const key = `${origin}|${entry.connectTimeout}|${entry.verify}`;
    pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connect: { timeout: entry.connectTimeout, rejectUnauthorized: entry.verify },
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
  upstreamEntry(upstream: Upstream): UpstreamEntry {
    const cached = this.upstreamsByObject.get(upstream);
    if (cached !== undefined) return cached;
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

  /** Stops probes and destroys pooled connections. */
  async close(): Promise<void> {
    for (const entry of this.upstreamsById.values()) entry.health.close();
    this.upstreamsById.clear();
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((pool) => pool.destroy()));
  }
}
