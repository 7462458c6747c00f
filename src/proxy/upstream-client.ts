import type { IncomingMessage } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { Service, Upstream } from '../config/types.ts';
import { GatewayError } from '../gateway/errors.ts';
import { computeHashKey, createBalancer, type Balancer, type Peer } from './balancer.ts';
import { createHealthChecker, type HealthChecker } from './health.ts';
import type { UpstreamRequest, UpstreamResponse } from './types.ts';
import { openUpstreamUpgrade, relayUpgrade, writeUpgradeError, type UpgradeOutcome } from './websocket.ts';

export interface UpstreamClientOptions {
  /** Probe interval for unhealthy targets when the upstream sets no active unhealthy interval. */
  readonly probeIntervalMs?: number;
  /** How long an idle upstream connection is kept (default 60 s, Kong's upstream_keepalive_idle_timeout). */
  readonly keepAliveTimeoutMs?: number;
  /** Cap on connections per origin (default unlimited, as nginx without `keepalive` limits). */
  readonly connectionsPerOrigin?: number;
}

/** The client side of an upgrade request, as Node's `'upgrade'` event hands it over. */
export interface UpgradeClient {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** Included in the JSON error body when the upgrade fails. */
  readonly requestId?: string;
}

export interface UpstreamClient {
  /**
   * Sends one request to the service (through its upstream's balancer when it has one) and
   * resolves when response headers arrive; the body streams afterwards. Rejects with a
   * GatewayError (UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE, NAME_RESOLUTION_FAILED, NO_PEER)
   * once retries are exhausted, or with the signal's reason when `signal` aborts.
   */
  send(request: UpstreamRequest, signal?: AbortSignal | UpstreamCancel): Promise<UpstreamResponse>;
  /**
   * send() without a Readable per response: the head and the body chunks go straight to
   * `sink` (the gateway's hot path). Resolves once `sink.start()` has taken the head; rejects
   * as send() does before that. Afterwards failures reach `sink.fail()`.
   */
  forward(request: UpstreamRequest, sink: ResponseSink, signal?: AbortSignal | UpstreamCancel): Promise<void>;
  /**
   * Passes a WebSocket (or any HTTP/1.1 Upgrade) through to the service. Always answers the
   * client socket itself: a relayed 101 + spliced sockets, the upstream's non-101 response, or a
   * JSON error response. Resolves with the upstream status, or the error status written.
   */
  upgrade(request: UpstreamRequest, client: UpgradeClient): Promise<number>;
  /** Health state of an upstream by id (for the Admin API's `/upstreams/{u}/health`). */
  health(upstreamId: string): HealthChecker | undefined;
  /** Drops balancer/health state of upstreams no longer in the config. */
  retainUpstreams(upstreamIds: Iterable<string>): void;
  /** Stops probes and destroys pooled connections; the gateway drains requests before calling it. */
  close(): Promise<void>;
}

/** An upstream response without its body. */
export type UpstreamResponseHead = Omit<UpstreamResponse, 'body'>;

/** A sink's handle on the body it receives. */
export interface BodyFlow {
  /** Restarts a body paused by `write` returning false. */
  resume(): void;
  /** The consumer wants no more: abort the upstream response (no `fail` call follows). */
  cancel(error: Error | null): void;
}

/** Receives one upstream response as it arrives (see {@link UpstreamClient.forward}). */
export interface ResponseSink {
  /** The head. May throw: the exchange then fails as if the upstream had. */
  start(head: UpstreamResponseHead, flow: BodyFlow): void;
  /** A body chunk; false pauses the upstream until `flow.resume()`. */
  write(chunk: Buffer): boolean;
  end(): void;
  /** The body broke off after start() (upstream error, timeout, or cancel). */
  fail(error: Error): void;
}

/**
 * A cancel handle for {@link UpstreamClient.send}, for callers that would otherwise create an
 * AbortController per request: an AbortSignal is an EventTarget and aborting one builds a
 * DOMException, both measurable at proxy request rates. One attempt listens at a time.
 */
export class UpstreamCancel {
  aborted = false;
  reason: unknown = undefined;
  private listener: ((reason: unknown) => void) | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.listener?.(reason);
  }

  /** Replaces the listener (undefined removes it). */
  listen(listener: ((reason: unknown) => void) | undefined): void {
    this.listener = listener;
  }
}

type CancelSignal = AbortSignal | UpstreamCancel;

function listenForCancel(signal: CancelSignal, listener: () => void): void {
  if (signal instanceof UpstreamCancel) signal.listen(listener);
  else signal.addEventListener('abort', listener, { once: true });
}

function stopListening(signal: CancelSignal, listener: () => void): void {
  if (signal instanceof UpstreamCancel) signal.listen(undefined);
  else signal.removeEventListener('abort', listener);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Response bodies buffer at most this much before pausing the upstream socket. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

interface UpstreamEntry {
  readonly fingerprint: string;
  readonly upstream: Upstream;
  readonly balancer: Balancer;
  readonly health: HealthChecker;
}

/** Per-service settings computed once per Service object (a snapshot never mutates it). */
interface ServiceEntry {
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

function originHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);

/** Maps what undici / the socket reported to the gateway's error table. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = errorCode(error) ?? errorCode((error as { cause?: unknown } | null)?.cause);
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new GatewayError('UPSTREAM_TIMEOUT', { detail, cause: error });
  if (code !== undefined && DNS_CODES.has(code)) return new GatewayError('NAME_RESOLUTION_FAILED', { detail, cause: error });
  return new GatewayError('UPSTREAM_UNAVAILABLE', { detail, cause: error });
}

/** The streamed response body: reading resumes the paused upstream socket (backpressure). */
class UpstreamBody extends Readable {
  constructor(private readonly flow: BodyFlow) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
  }

  override _read(): void {
    this.flow.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.flow.cancel(error);
    callback(error);
  }
}

/** send()'s sink: the body as a Readable, resolved with the head. */
class ReadableResponse implements ResponseSink {
  response: UpstreamResponse | undefined;
  private body: UpstreamBody | undefined;

  start(head: UpstreamResponseHead, flow: BodyFlow): void {
    this.body = new UpstreamBody(flow);
    this.response = { ...head, body: this.body };
  }

  write(chunk: Buffer): boolean {
    return this.body?.push(chunk) ?? false;
  }

  end(): void {
    this.body?.push(null);
  }

  fail(error: Error): void {
    this.body?.destroy(error);
  }
}

/**
 * One attempt: an undici dispatch handler that hands the head to the sink, then feeds it the
 * body chunk by chunk, pausing undici when the sink is slower.
 */
class Exchange implements Dispatcher.DispatchHandler, BodyFlow {
  controller: Dispatcher.DispatchController | undefined;
  private started = false;
  private finished = false;
  private readonly startedAt = performance.now();
  private readTimer: NodeJS.Timeout | undefined;
  /** Set for body-less requests, where we time the wait for headers ourselves (see attempt()). */
  readTimeoutMs = 0;

  constructor(
    private readonly address: string,
    private readonly sink: ResponseSink,
    private readonly resolve: () => void,
    private readonly reject: (error: unknown) => void,
    private readonly signal: CancelSignal | undefined,
    private readonly onFinish: (outcome: 'ok' | 'timeout' | 'failure' | 'aborted', status: number) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal?.aborted) controller.abort(this.signal.reason as Error);
    else if (this.readTimeoutMs > 0 && this.readTimer === undefined) {
      this.readTimer = setTimeout(onReadTimeout, this.readTimeoutMs, this).unref();
    }
  }

  readTimedOut(): void {
    this.readTimer = undefined;
    this.controller?.abort(new GatewayError('UPSTREAM_TIMEOUT', { detail: 'read timeout waiting for response headers' }));
  }

  private clearReadTimer(): void {
    if (this.readTimer !== undefined) {
      clearTimeout(this.readTimer);
      this.readTimer = undefined;
    }
  }

  abort(reason: unknown): void {
    const error = reason instanceof Error ? reason : new Error('aborted');
    if (this.controller) this.controller.abort(error);
    else this.fail(error, true);
  }

  resume(): void {
    this.controller?.resume();
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return;
    this.clearReadTimer();
    const head: UpstreamResponseHead = {
      status: statusCode,
      headers: headers as Record<string, string | string[]>,
      target: this.address,
      latencyMs: performance.now() - this.startedAt,
    };
    try {
      this.sink.start(head, this);
    } catch (error) {
      // The sink refused the head (our side, not the target's health): fail without retrying.
      this.finished = true;
      this.onFinish('aborted', 0);
      this.reject(error);
      controller.abort(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.started = true;
    this.resolve();
    this.onFinish('ok', statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.started && !this.finished && !this.sink.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.end();
    this.onFinish('ok', 0);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error, this.signal?.aborted === true);
  }

  private fail(error: Error, aborted: boolean): void {
    this.clearReadTimer();
    if (this.finished) return;
    this.finished = true;
    if (!this.started) {
      const mapped = aborted ? (this.signal?.reason ?? error) : toGatewayError(error);
      this.onFinish(aborted ? 'aborted' : mapped instanceof GatewayError && mapped.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'failure', 0);
      this.reject(mapped);
    } else {
      // Headers were already sent downstream: the body errors out and the gateway cuts the response.
      const mapped = toGatewayError(error);
      this.onFinish(mapped.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'aborted', 0);
      this.sink.fail(mapped);
    }
  }

  cancel(error: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinish('aborted', 0);
    this.controller?.abort(error ?? new Error('response body destroyed by consumer'));
  }
}

function onReadTimeout(exchange: Exchange): void {
  exchange.readTimedOut();
}

export function createUpstreamClient(options: UpstreamClientOptions = {}): UpstreamClient {
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 60_000;
  const pools = new Map<string, Pool>();
  const services = new WeakMap<Service, ServiceEntry>();
  const upstreamsByObject = new WeakMap<Upstream, UpstreamEntry>();
  const upstreamsById = new Map<string, UpstreamEntry>();
  let closed = false;

  function serviceEntry(service: Service): ServiceEntry {
    let entry = services.get(service);
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
      services.set(service, entry);
    }
    return entry;
  }

  function poolFor(entry: ServiceEntry, host: string, port: number, address: string): Pool {
    let pool = entry.pools.get(address);
    if (pool !== undefined) return pool;
    const origin = `${entry.tls ? 'https' : 'http'}://${originHost(host)}:${port}`;
    const key = `${origin}|${entry.connectTimeout}|${entry.verify}`;
    pool = pools.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connect: { timeout: entry.connectTimeout, rejectUnauthorized: entry.verify },
        keepAliveTimeout,
        connections: options.connectionsPerOrigin ?? null,
        pipelining: 1,
      });
      pools.set(key, pool);
    }
    entry.pools.set(address, pool);
    return pool;
  }

  /** Balancer + health for an upstream, reused across snapshots while its config is unchanged. */
  function upstreamEntry(upstream: Upstream): UpstreamEntry {
    const cached = upstreamsByObject.get(upstream);
    if (cached !== undefined) return cached;
    const fingerprint = JSON.stringify(upstream);
    const previous = upstreamsById.get(upstream.id);
    let entry: UpstreamEntry;
    if (previous !== undefined && previous.fingerprint === fingerprint) {
      entry = previous;
    } else {
      const health = previous?.health ?? createHealthChecker(upstream, { probeIntervalMs: options.probeIntervalMs });
      if (previous !== undefined) health.update(upstream);
      const balancer = createBalancer(upstream, (address) => health.isHealthy(address));
      entry = { fingerprint, upstream, balancer, health };
      upstreamsById.set(upstream.id, entry);
    }
    upstreamsByObject.set(upstream, entry);
    return entry;
  }

  interface Choice {
    readonly host: string;
    readonly port: number;
    readonly address: string;
    readonly peer?: Peer;
  }

  /** Picks the next target, preferring ones not tried yet; falls back to any healthy one. */
  function choose(request: UpstreamRequest, up: UpstreamEntry | undefined, hashKey: string | undefined, tried: Set<Peer> | undefined): Choice {
    if (up === undefined) {
      const { host, port } = request.service;
      return { host, port, address: `${originHost(host)}:${port}` };
    }
    let peer: Peer;
    try {
      peer = up.balancer.pick(hashKey, tried);
    } catch (error) {
      if (tried === undefined || tried.size === 0) throw error;
      peer = up.balancer.pick(hashKey);
    }
    return { host: peer.host, port: peer.port, address: peer.address, peer };
  }

  function attempt(
    request: UpstreamRequest,
    sink: ResponseSink,
    svc: ServiceEntry,
    choice: Choice,
    up: UpstreamEntry | undefined,
    signal: CancelSignal | undefined,
  ): Promise<void> {
    const pool = poolFor(svc, choice.host, choice.port, choice.address);
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      let released = false;
      const exchange = new Exchange(choice.address, sink, resolve, reject, signal, (outcome, status) => {
        if (up !== undefined) {
          if (status > 0) up.health.reportStatus(choice.address, status);
          else if (outcome === 'timeout') up.health.reportTimeout(choice.address);
          else if (outcome === 'failure') up.health.reportTcpFailure(choice.address);
        }
        if (status > 0) return; // response started; the body is still flowing
        if (!released) {
          released = true;
          if (choice.peer !== undefined) up?.balancer.release(choice.peer);
          if (onAbort !== undefined && signal !== undefined) stopListening(signal, onAbort);
        }
      });
      // undici times headers with coarse (~1 s) timers; for body-less requests a native timer
      // keeps short read_timeouts precise. With a body, undici's timer is kept because it is
      // refreshed by upload progress (it doubles as the write timeout).
      if (request.body === null) exchange.readTimeoutMs = svc.readTimeout;
      if (signal !== undefined) {
        onAbort = () => exchange.abort(signal.reason);
        listenForCancel(signal, onAbort);
      }
      pool.dispatch(
        {
          path: request.pathAndQuery,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body: request.body,
          headersTimeout: request.body === null ? 0 : svc.uploadHeadersTimeout,
          bodyTimeout: svc.readTimeout,
        },
        exchange,
      );
    });
  }

  async function send(request: UpstreamRequest, signal?: CancelSignal): Promise<UpstreamResponse> {
    const sink = new ReadableResponse();
    await forward(request, sink, signal);
    if (sink.response === undefined) throw new Error('upstream response started without a head');
    return sink.response;
  }

  async function forward(request: UpstreamRequest, sink: ResponseSink, signal?: CancelSignal): Promise<void> {
    if (closed) throw new GatewayError('SHUTTING_DOWN');
    const svc = serviceEntry(request.service);
    const up = request.upstream !== undefined ? upstreamEntry(request.upstream) : undefined;
    const hashKey = up !== undefined && up.upstream.algorithm === 'consistent-hashing' ? computeHashKey(up.upstream, request.hashInputs) : undefined;
    const attempts = request.body === null && IDEMPOTENT.has(request.method) ? svc.retries + 1 : 1;
    let tried: Set<Peer> | undefined;
    let lastError: unknown;
    for (let n = 0; n < attempts; n++) {
      let choice: Choice;
      try {
        choice = choose(request, up, hashKey, tried);
      } catch (error) {
        throw lastError ?? error;
      }
      try {
        return await attempt(request, sink, svc, choice, up, signal);
      } catch (error) {
        lastError = error;
        if (signal?.aborted || !(error instanceof GatewayError)) throw error;
        if (choice.peer !== undefined) (tried ??= new Set()).add(choice.peer);
      }
    }
    throw lastError;
  }

  async function upgrade(request: UpstreamRequest, client: UpgradeClient): Promise<number> {
    const svc = serviceEntry(request.service);
    const up = request.upstream !== undefined ? upstreamEntry(request.upstream) : undefined;
    const hashKey = up !== undefined && up.upstream.algorithm === 'consistent-hashing' ? computeHashKey(up.upstream, request.hashInputs) : undefined;
    const abort = new AbortController();
    const onClientClose = (): void => abort.abort(new GatewayError('UPSTREAM_UNAVAILABLE', { detail: 'client went away' }));
    client.socket.once('close', onClientClose);
    let tried: Set<Peer> | undefined;
    let lastError: unknown;
    let outcome: UpgradeOutcome | undefined;
    try {
      for (let n = 0; n < svc.retries + 1 && outcome === undefined && !abort.signal.aborted; n++) {
        const choice = choose(request, up, hashKey, tried);
        try {
          outcome = await openUpstreamUpgrade(
            request,
            {
              host: choice.host,
              port: choice.port,
              tls: svc.tls,
              rejectUnauthorized: svc.verify,
              connectTimeoutMs: svc.connectTimeout,
              readTimeoutMs: svc.readTimeout,
            },
            abort.signal,
          );
          up?.health.reportStatus(choice.address, outcome.response.statusCode ?? 0);
        } catch (error) {
          lastError = error;
          if (up !== undefined) {
            if (error instanceof GatewayError && error.code === 'UPSTREAM_TIMEOUT') up.health.reportTimeout(choice.address);
            else up.health.reportTcpFailure(choice.address);
          }
          if (choice.peer !== undefined) (tried ??= new Set()).add(choice.peer);
        } finally {
          if (choice.peer !== undefined) up?.balancer.release(choice.peer);
        }
      }
    } catch (error) {
      lastError = error;
    } finally {
      client.socket.off('close', onClientClose);
    }
    if (outcome === undefined) {
      const error = toGatewayError(lastError ?? new Error('upgrade failed'));
      writeUpgradeError(client.socket, error, client.requestId);
      return error.status;
    }
    relayUpgrade(client.socket, client.head, outcome);
    return outcome.response.statusCode ?? 502;
  }

  return {
    send,
    forward,
    upgrade,
    health(upstreamId: string): HealthChecker | undefined {
      return upstreamsById.get(upstreamId)?.health;
    },
    retainUpstreams(upstreamIds: Iterable<string>): void {
      const keep = new Set(upstreamIds);
      for (const [id, entry] of upstreamsById) {
        if (keep.has(id)) continue;
        entry.health.close();
        upstreamsById.delete(id);
      }
    },
    async close(): Promise<void> {
      closed = true;
      for (const entry of upstreamsById.values()) entry.health.close();
      upstreamsById.clear();
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.destroy()));
    },
  };
}
