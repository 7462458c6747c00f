import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../gateway/errors.ts';
import type { CancelSignal } from './cancel.ts';
import type { UpstreamResponse } from './types.ts';
import { toGatewayError } from './upstream-errors.ts';

/** An upstream response without its body. */
export type UpstreamResponseHead = Omit<UpstreamResponse, 'body'>;

/** A sink's handle on the body it receives. */
export interface BodyFlow {
  /** Restarts a body paused by `write` returning false. */
  resume(): void;
  /** The consumer wants no more: abort the upstream response (no `fail` call follows). */
  cancel(error: Error | null): void;
}

/** Receives one upstream response as it arrives (see `UpstreamClient.forward`). */
export interface ResponseSink {
  /** The head. May throw: the exchange then fails as if the upstream had. */
  start(head: UpstreamResponseHead, flow: BodyFlow): void;
  /** A body chunk; false pauses the upstream until `flow.resume()`. */
  write(chunk: Buffer): boolean;
  end(): void;
  /** The body broke off after start() (upstream error, timeout, or cancel). */
  fail(error: Error): void;
}

/** Response bodies buffer at most this much before pausing the upstream socket. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

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
export class ReadableResponse implements ResponseSink {
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
export class Exchange implements Dispatcher.DispatchHandler, BodyFlow {
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
