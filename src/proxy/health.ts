import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP, type Socket } from 'node:net';
import type { Upstream } from '../config/types.ts';
import { parseTarget } from './balancer.ts';
import { tlsConnectOptions, type UpstreamTls } from './upstream-tls.ts';

/** Default pause between probes of an unhealthy target when the upstream configures none. */
export const DEFAULT_PROBE_INTERVAL_MS = 5000;

export type HealthListener = (address: string, healthy: boolean, reason: string) => void;

export interface TargetHealth {
  readonly address: string;
  readonly healthy: boolean;
}

/**
 * Per-target health of one upstream: Kong's passive checks (circuit breaker) decide when a
 * target leaves the rotation; active probes bring it back. State is keyed by the target's
 * `host:port`, so it survives config reloads that keep the target.
 */
export interface HealthChecker {
  isHealthy(address: string): boolean;
  /** A response arrived from `address` with this status. */
  reportStatus(address: string, status: number): void;
  /** Connecting to / talking with `address` failed below HTTP (refused, reset, ...). */
  reportTcpFailure(address: string): void;
  reportTimeout(address: string): void;
  /** Manual override (Kong's `POST /upstreams/{u}/targets/{t}/unhealthy|healthy`). */
  setHealthy(address: string, healthy: boolean): void;
  /** Adopts a changed upstream config; state of targets that remain is kept. */
  update(upstream: Upstream): void;
  /**
   * The TLS profile of a service that sends traffic to this upstream: `https` probes trust its
   * `ca_certificates` and present its `client_certificate`, as its requests do.
   */
  useTls(tls: UpstreamTls | undefined): void;
  status(): TargetHealth[];
  /** Called on every transition; returns an unsubscribe function. */
  onChange(listener: HealthListener): () => void;
  close(): void;
}

export interface HealthOptions {
  /** Probe interval when `healthchecks.active.unhealthy.interval` is 0. */
  readonly probeIntervalMs?: number;
}

interface State {
  healthy: boolean;
  tcpFailures: number;
  timeouts: number;
  httpFailures: number;
  probeSuccesses: number;
  timer?: NodeJS.Timeout;
  probe?: ClientRequest | Socket;
}

export function createHealthChecker(initial: Upstream, options: HealthOptions = {}): HealthChecker {
  let upstream = initial;
  let unhealthyStatuses = new Set(upstream.healthchecks.passive.unhealthy.http_statuses);
  let healthyStatuses = new Set(upstream.healthchecks.passive.healthy.http_statuses);
  const states = new Map<string, State>();
  const listeners = new Set<HealthListener>();
  /** Number of unhealthy targets: lets `isHealthy` answer without a map lookup when all are up. */
  let unhealthyCount = 0;
  let closed = false;
  let probeTls: UpstreamTls | undefined;

  const state = (address: string): State => {
    let s = states.get(address);
    if (s === undefined) {
      s = { healthy: true, tcpFailures: 0, timeouts: 0, httpFailures: 0, probeSuccesses: 0 };
      states.set(address, s);
    }
    return s;
  };

  function emit(address: string, healthy: boolean, reason: string): void {
    for (const listener of listeners) listener(address, healthy, reason);
  }

  function stopProbe(s: State): void {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    s.probe?.destroy();
    s.probe = undefined;
  }

  function markHealthy(address: string, s: State, reason: string): void {
    stopProbe(s);
    s.tcpFailures = s.timeouts = s.httpFailures = s.probeSuccesses = 0;
    if (s.healthy) return;
    s.healthy = true;
    unhealthyCount--;
    emit(address, true, reason);
  }

  function markUnhealthy(address: string, s: State, reason: string, probe: boolean): void {
    if (!s.healthy) return;
    s.healthy = false;
    s.probeSuccesses = 0;
    unhealthyCount++;
    emit(address, false, reason);
    if (probe) scheduleProbe(address, s);
  }

  function probeInterval(): number {
    const configured = upstream.healthchecks.active.unhealthy.interval;
    return configured > 0 ? configured * 1000 : (options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS);
  }

  function scheduleProbe(address: string, s: State): void {
    if (closed || s.timer !== undefined) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      runProbe(address, s);
    }, probeInterval());
    s.timer.unref();
  }

  /** One active probe: TCP connect, or GET `http_path` expecting an active healthy status. */
  function runProbe(address: string, s: State): void {
    if (closed || s.healthy || !states.has(address)) return;
    const active = upstream.healthchecks.active;
    const { host, port } = parseTarget(address);
    const timeoutMs = Math.max(1, active.timeout * 1000);
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      s.probe?.destroy();
      s.probe = undefined;
      if (closed || s.healthy || states.get(address) !== s) return;
      if (!ok) s.probeSuccesses = 0;
      else if (++s.probeSuccesses >= Math.max(1, active.healthy.successes)) {
        markHealthy(address, s, 'active probe succeeded');
        return;
      }
      scheduleProbe(address, s);
    };
    if (active.type === 'tcp') {
      const socket = connect({ host, port, timeout: timeoutMs });
      s.probe = socket;
      socket.once('connect', () => done(true));
      socket.once('timeout', () => done(false));
      socket.once('error', () => done(false));
      socket.once('close', () => done(false));
      return;
    }
    const okStatuses = active.healthy.http_statuses;
    const https = active.type === 'https';
    const send = https ? httpsRequest : httpRequest;
    // Kong's https probes: verify unless `https_verify_certificate` is false; SNI `https_sni`, else the target's name.
    const tlsOptions = https
      ? {
          ...(probeTls !== undefined ? tlsConnectOptions(probeTls) : {}),
          rejectUnauthorized: active.https_verify_certificate ?? true,
          servername: active.https_sni ?? (isIP(host) === 0 ? host : ''),
        }
      : {};
    const req = send({
      ...tlsOptions,
      host,
      port,
      method: 'GET',
      path: active.http_path,
      agent: false,
      timeout: timeoutMs,
      headers: { host: port === 80 || port === 443 ? host : `${host}:${port}`, 'user-agent': 'sluice-healthcheck' },
    });
    s.probe = req;
    req.once('response', (res) => {
      res.resume();
      done(okStatuses.includes(res.statusCode ?? 0));
    });
    req.once('timeout', () => done(false));
    req.once('error', () => done(false));
    req.once('close', () => done(false));
    req.end();
  }

  /** Consecutive-failure counters: a threshold of 0 disables that counter, as in Kong. */
  function failure(address: string, kind: 'tcpFailures' | 'timeouts' | 'httpFailures', limit: number, reason: string): void {
    if (limit <= 0) return;
    const s = state(address);
    if (!s.healthy) return;
    s[kind]++;
    if (s[kind] >= limit) markUnhealthy(address, s, reason, true);
  }

  return {
    isHealthy(address: string): boolean {
      if (unhealthyCount === 0) return true;
      return states.get(address)?.healthy ?? true;
    },
    reportStatus(address: string, status: number): void {
      if (unhealthyStatuses.has(status)) {
        failure(address, 'httpFailures', upstream.healthchecks.passive.unhealthy.http_failures, `http status ${status}`);
      } else if (healthyStatuses.has(status)) {
        const s = states.get(address);
        if (s !== undefined && s.healthy) s.tcpFailures = s.timeouts = s.httpFailures = 0;
      }
    },
    reportTcpFailure(address: string): void {
      failure(address, 'tcpFailures', upstream.healthchecks.passive.unhealthy.tcp_failures, 'tcp failure');
    },
    reportTimeout(address: string): void {
      failure(address, 'timeouts', upstream.healthchecks.passive.unhealthy.timeouts, 'timeout');
    },
    setHealthy(address: string, healthy: boolean): void {
      const s = state(address);
      if (healthy) markHealthy(address, s, 'manual');
      // A manual "unhealthy" is not probed back in: the operator decides, as in Kong.
      else markUnhealthy(address, s, 'manual', false);
    },
    update(next: Upstream): void {
      upstream = next;
      unhealthyStatuses = new Set(next.healthchecks.passive.unhealthy.http_statuses);
      healthyStatuses = new Set(next.healthchecks.passive.healthy.http_statuses);
      const keep = new Set(next.targets.map((t) => t.target));
      for (const [address, s] of states) {
        if (keep.has(address)) continue;
        stopProbe(s);
        if (!s.healthy) unhealthyCount--;
        states.delete(address);
      }
    },
    useTls(tls: UpstreamTls | undefined): void {
      probeTls = tls;
    },
    status(): TargetHealth[] {
      return upstream.targets.map((t) => ({ address: t.target, healthy: states.get(t.target)?.healthy ?? true }));
    },
    onChange(listener: HealthListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): void {
      closed = true;
      for (const s of states.values()) stopProbe(s);
      listeners.clear();
    },
  };
}
