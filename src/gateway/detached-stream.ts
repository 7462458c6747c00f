/**
 * What is left of a request whose stream took its socket over (see
 * `TerminatorExchange.detached`), run once the stream is over: the log phase (the plugin run is
 * held only when a plugin has one), then the access log line and the route's metrics.
 *
 * One small object per open stream where a promise chain on the stream's end (promises, their
 * reactions and closures) cost about 1 KiB. Either side can come first: `handle` hands back what
 * it recorded of the request, the stream says it is over; the rest runs once both happened.
 *
 * ```ts
 * let tail: DetachedStream | undefined;
 * await terminator.handle({ ...exchange, detached: () => (tail = new DetachedStream(observer)) });
 * tail.logPhase = run;                                  // if a plugin has a log phase
 * tail.handBack(observer?.later(ctx, req, res, socket, false));
 * ```
 */
import type { RequestObserver, RequestSummary } from '../observability/request-observer.ts';
import type { StreamEndListener } from '../pubsub/transports/types.ts';
import type { PluginRun } from './plugin-run.ts';

export class DetachedStream implements StreamEndListener {
  /** The route's plugins, kept for their log phase (only when one has it). */
  logPhase: PluginRun | undefined;
  private summary: RequestSummary | undefined;
  private handedBack = false;
  private ended = false;

  constructor(private readonly observer: RequestObserver | undefined) {}

  /** The request is done with: what the access log and metrics need (undefined when both are off). */
  handBack(summary: RequestSummary | undefined): void {
    this.summary = summary;
    this.handedBack = true;
    if (this.ended) this.finish();
  }

  streamEnded(): void {
    this.ended = true;
    if (this.handedBack) this.finish();
  }

  /** The log phase (a failing one still records), then the access log line and metrics. */
  private finish(): void {
    const run = this.logPhase;
    this.logPhase = undefined;
    const record = (): void => {
      if (this.summary !== undefined) this.observer?.record(this.summary);
    };
    const logged = run?.log();
    if (logged === undefined) return record();
    logged.then(record, record);
  }
}
