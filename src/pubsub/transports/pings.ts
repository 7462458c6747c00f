/**
 * Keep-alive pings for the open streams of one format (a route's EventSource options): one
 * interval writes the ping to every stream on it, where a timer per stream (its Timeout and the
 * closures around it) cost ~0.4 KiB of each idle subscriber. The interval runs only while some
 * stream is open, so a stream's first ping comes at most `everyMs` after it opened.
 *
 * @example
 *   const pings = new Pings(EVENTSOURCE_PING, 30_000);
 *   pings.add(stream);      // stream.ping(chunk) every 30 s from now on
 *   pings.delete(stream);   // when it ends
 */
import type { Chunk } from './wire.ts';

/** A stream that takes pings. */
export interface PingTarget {
  ping(chunk: Chunk): void;
}

export class Pings {
  private readonly streams = new Set<PingTarget>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly chunk: Chunk, private readonly everyMs: number) {}

  add(stream: PingTarget): void {
    this.streams.add(stream);
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  /** Safe to call more than once, or for a stream never added. */
  delete(stream: PingTarget): void {
    if (!this.streams.delete(stream) || this.streams.size > 0 || this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    for (const stream of this.streams) {
      try {
        stream.ping(this.chunk);
      } catch {
        // One stream's failure is its own; the others still get their ping.
      }
    }
  }
}
