import type { Dispatcher, Pool } from 'undici';
import type { Peer } from './balancer.ts';
import { listenForCancel, stopListening, type CancelSignal } from './cancel.ts';
import { Exchange, type ResponseSink } from './exchange.ts';
import type { UpstreamRequest } from './types.ts';
import { originHost, type ServiceEntry, type UpstreamEntry } from './upstream-registry.ts';

/** The target one attempt goes to: a balancer peer, or the service's own host:port. */
export interface Choice {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly peer?: Peer;
}

/** Picks the next target, preferring ones not tried yet; falls back to any healthy one. */
export function choose(request: UpstreamRequest, up: UpstreamEntry | undefined, hashKey: string | undefined, tried: Set<Peer> | undefined): Choice {
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

/** One try against one target: dispatches the request on `pool` with an {@link Exchange} feeding `sink`. */
export function attempt(
  pool: Pool,
  request: UpstreamRequest,
  sink: ResponseSink,
  svc: ServiceEntry,
  choice: Choice,
  up: UpstreamEntry | undefined,
  signal: CancelSignal | undefined,
): Promise<void> {
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
