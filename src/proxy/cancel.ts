/**
 * A cancel handle for `UpstreamClient.send`, for callers that would otherwise create an
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

export type CancelSignal = AbortSignal | UpstreamCancel;

export function listenForCancel(signal: CancelSignal, listener: () => void): void {
  if (signal instanceof UpstreamCancel) signal.listen(listener);
  else signal.addEventListener('abort', listener, { once: true });
}

export function stopListening(signal: CancelSignal, listener: () => void): void {
  if (signal instanceof UpstreamCancel) signal.listen(undefined);
  else signal.removeEventListener('abort', listener);
}
