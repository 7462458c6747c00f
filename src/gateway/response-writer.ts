import type { BodyFlow, ResponseSink, UpstreamResponseHead } from '../proxy/index.ts';
import type { RequestContext } from './context.ts';

/**
 * Writes the upstream response to the client as it arrives: the head at once, then each body
 * chunk, pausing the upstream while the client's socket is full. Cheaper than a Readable plus
 * `pipeline()` per response (streams, end-of-stream watchers, an AbortController and a
 * DOMException each time).
 *
 * With plugins, the head is held (`hold`) until header_filter has run, and every chunk goes
 * through `filter` (body_filter) on its way out; the upstream stays paused meanwhile, so at
 * most one chunk waits here.
 *
 * A head with `X-Accel-Redirect` (nchan's internal redirect) is never written: the writer
 * keeps the target in `redirect`, swallows the body, and `discard()` cancels the upstream.
 */
export class ResponseWriter implements ResponseSink {
  head: UpstreamResponseHead | undefined;
  /** body_filter: what to send instead of a chunk (called once more with eof). */
  filter: ((chunk: Buffer, eof: boolean) => Buffer) | undefined;
  /** The upstream's `X-Accel-Redirect` target; the response then never reaches the client. */
  redirect: string | undefined;
  private held: Buffer[] | undefined;
  private heldEnd = false;
  private flow: BodyFlow | undefined;
  private readonly onDrain = (): void => this.flow?.resume();

  constructor(
    private readonly ctx: RequestContext,
    private readonly writeHead: (head: UpstreamResponseHead) => void,
    hold: boolean,
  ) {
    if (hold) this.held = [];
  }

  start(head: UpstreamResponseHead, flow: BodyFlow): void {
    this.flow = flow;
    this.head = head;
    this.ctx.upstreamLatencyMs = head.latencyMs;
    const redirect = head.headers['x-accel-redirect'];
    if (redirect !== undefined) {
      this.redirect = typeof redirect === 'string' ? redirect : (redirect[0] ?? '');
      return;
    }
    if (this.held === undefined) this.writeHead(head);
  }

  write(chunk: Buffer): boolean {
    if (this.redirect !== undefined) return false;
    if (this.held !== undefined) {
      this.held.push(chunk);
      return false;
    }
    const out = this.filter ? this.filter(chunk, false) : chunk;
    if (out.length === 0 || this.ctx.res.write(out)) return true;
    this.ctx.res.once('drain', this.onDrain);
    return false;
  }

  end(): void {
    if (this.redirect !== undefined) return;
    if (this.held !== undefined) {
      this.heldEnd = true;
      return;
    }
    const last = this.filter?.(Buffer.alloc(0), true);
    if (last && last.length > 0) this.ctx.res.end(last);
    else this.ctx.res.end();
  }

  fail(error: Error): void {
    if (this.redirect !== undefined) return;
    if (!this.ctx.res.destroyed) this.ctx.res.destroy(error);
  }

  /** A redirected response: drop the upstream body (and its connection, if it is not done). */
  discard(): void {
    this.flow?.cancel(null);
  }

  /** The head went out (after header_filter): let the held body through. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    let flowing = true;
    for (const chunk of held) flowing = this.write(chunk);
    if (this.heldEnd) this.end();
    else if (flowing) this.flow?.resume();
  }
}
