import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Snapshot } from '../config/types.ts';
import { GatewayError } from '../gateway/errors.ts';
import { attempt, choose, type Choice } from './attempt.ts';
import { computeHashKey, type Peer } from './balancer.ts';
import type { CancelSignal, UpstreamCancel } from './cancel.ts';
import { ReadableResponse, type ResponseSink } from './exchange.ts';
import type { HealthChecker } from './health.ts';
import type { UpstreamRequest, UpstreamResponse } from './types.ts';
import { toGatewayError } from './upstream-errors.ts';
import { UpstreamRegistry } from './upstream-registry.ts';
import { openUpstreamUpgrade, relayUpgrade, writeUpgradeError, type UpgradeOutcome } from './websocket.ts';

// Pieces that lived in this module before the split, still importable from here.
export { UpstreamCancel } from './cancel.ts';
export type { BodyFlow, ResponseSink, UpstreamResponseHead } from './exchange.ts';
export { toGatewayError } from './upstream-errors.ts';

export interface UpstreamClientOptions {
  /** Probe interval for unhealthy targets when the upstream sets no active unhealthy interval. */
  readonly probeIntervalMs?: number;
  /** How long an idle upstream connection is kept (default 60 s, Kong's upstream_keepalive_idle_timeout). */
  readonly keepAliveTimeoutMs?: number;
  /** Cap on connections per origin (default unlimited, as nginx without `keepalive` limits). */
  readonly connectionsPerOrigin?: number;
  /**
   * Verify upstream certificates of services that leave `tls_verify` unset (node setting
   * `upstream_tls_verify`, default true; Kong's default is off, see `upstream-tls.ts`).
   */
  readonly tlsVerify?: boolean;
}

/** The client side of an upgrade request, as Node's `'upgrade'` event hands it over. */
export interface UpgradeClient {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** Included in the JSON error body when the upgrade fails. */
  readonly requestId?: string;
}

/**
 * How an upgrade ended: the status written to the client, or (`redirect`) the target of the
 * upstream's `X-Accel-Redirect`, in which case nothing was written and the client socket is the
 * caller's again.
 */
export type UpgradeResult =
  | { readonly status: number; readonly redirect?: undefined; /** Why the upgrade failed, when the gateway answered it. */ readonly error?: GatewayError }
  | { readonly status: number; readonly redirect: string; readonly error?: undefined };

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
   * Passes a WebSocket (or any HTTP/1.1 Upgrade) through to the service. Answers the client
   * socket itself: a relayed 101 + spliced sockets, the upstream's non-101 response, or a JSON
   * error response; resolves with the upstream status, or the error status written. The one
   * exception is a non-101 answer carrying `X-Accel-Redirect` (nchan's internal redirect, as
   * `ResponseWriter` has it for plain requests): it is dropped unread and the result names the
   * target, leaving the client socket untouched.
   */
  upgrade(request: UpstreamRequest, client: UpgradeClient): Promise<UpgradeResult>;
  /** Health state of an upstream by id (for the Admin API's `/upstreams/{u}/health`). */
  health(upstreamId: string): HealthChecker | undefined;
  /** Drops balancer/health state of upstreams no longer in the config. */
  retainUpstreams(upstreamIds: Iterable<string>): void;
  /**
   * After a reload: retainUpstreams for the new config, and retires connection pools no service
   * of it uses any more (changed TLS settings or timeouts take effect for new requests).
   */
  retain(snapshot: Snapshot): void;
  /** Stops probes and destroys pooled connections; the gateway drains requests before calling it. */
  close(): Promise<void>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function createUpstreamClient(options: UpstreamClientOptions = {}): UpstreamClient {
  const registry = new UpstreamRegistry(options);
  let closed = false;

  async function send(request: UpstreamRequest, signal?: CancelSignal): Promise<UpstreamResponse> {
    const sink = new ReadableResponse();
    await forward(request, sink, signal);
    if (sink.response === undefined) throw new Error('upstream response started without a head');
    return sink.response;
  }

  async function forward(request: UpstreamRequest, sink: ResponseSink, signal?: CancelSignal): Promise<void> {
    if (closed) throw new GatewayError('SHUTTING_DOWN');
    const svc = registry.serviceEntry(request.service, request.pki);
    const up = request.upstream !== undefined ? registry.upstreamEntry(request.upstream, svc) : undefined;
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
        return await attempt(registry.poolFor(svc, choice.host, choice.port, choice.address), request, sink, svc, choice, up, signal);
      } catch (error) {
        lastError = error;
        if (signal?.aborted || !(error instanceof GatewayError) || error.code === 'SHUTTING_DOWN') throw error;
        // One host presents the same certificate every time: only another target can do better.
        if (up === undefined && error.code === 'UPSTREAM_TLS_VERIFY_FAILED') throw error;
        if (choice.peer !== undefined) (tried ??= new Set()).add(choice.peer);
      }
    }
    throw lastError;
  }

  async function upgrade(request: UpstreamRequest, client: UpgradeClient): Promise<UpgradeResult> {
    const svc = registry.serviceEntry(request.service, request.pki);
    const up = request.upstream !== undefined ? registry.upstreamEntry(request.upstream, svc) : undefined;
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
          if (up === undefined && error instanceof GatewayError && error.code === 'UPSTREAM_TLS_VERIFY_FAILED') break;
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
      return { status: error.status, error };
    }
    const status = outcome.response.statusCode ?? 502;
    const redirect = outcome.kind === 'response' ? outcome.response.headers['x-accel-redirect'] : undefined;
    if (redirect !== undefined) {
      outcome.response.destroy();
      return { status, redirect: typeof redirect === 'string' ? redirect : String(redirect[0] ?? '') };
    }
    relayUpgrade(client.socket, client.head, outcome);
    return { status };
  }

  return {
    send,
    forward,
    upgrade,
    health(upstreamId: string): HealthChecker | undefined {
      return registry.health(upstreamId);
    },
    retainUpstreams(upstreamIds: Iterable<string>): void {
      registry.retainUpstreams(upstreamIds);
    },
    retain(snapshot: Snapshot): void {
      registry.retain(snapshot);
    },
    close(): Promise<void> {
      closed = true;
      return registry.close();
    },
  };
}
