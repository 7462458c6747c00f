import type { Logger } from '../observability/logger.ts';
import type { StreamShape } from '../plugins/pdk/types.ts';
import type { Message } from '../pubsub/engine.ts';
import type { EndReason, Hub, Sink, Subscription } from '../pubsub/hub.ts';
import type { MessageId } from '../pubsub/message-id.ts';
import type { AdmittedRequest } from './admitted-request.ts';
import type { RecheckReason, Verdict } from './recheck.ts';
import type { RuntimeState } from './state.ts';

/** What a reload did to the open subscriber streams. */
export interface RecheckSummary {
  /** Streams the new config still admits: they stay open and keep receiving. */
  readonly kept: number;
  /** Streams ended with a reconnect hint. */
  readonly closed: number;
  readonly closedBy: Readonly<Partial<Record<RecheckReason, number>>>;
}

export interface StreamRegistryDeps {
  /** The gateway's current state (a stream admitted on an older one is re-checked at once). */
  readonly current: () => RuntimeState;
  readonly check: (admitted: AdmittedRequest, shape: StreamShape, state: RuntimeState) => Promise<Verdict>;
  readonly logger: Logger;
}

interface Held {
  /** What the stream was admitted with: the recorded request and the route it matched. */
  readonly admitted: AdmittedRequest;
  readonly shape: StreamShape;
  readonly subscription: Subscription;
  /** The state the stream was last admitted by or re-checked against. */
  checked: RuntimeState;
}

/**
 * One held stream, as the transport sees its subscription: forgotten by the registry when it
 * closes or ends. A class, as its sink below: there is one per open stream.
 */
class HeldStream implements Held, Subscription {
  private inner: Subscription | undefined;
  checked: RuntimeState;

  constructor(private readonly registry: Set<Held>, readonly admitted: AdmittedRequest, readonly shape: StreamShape) {
    this.checked = admitted.state;
  }

  /** Subscribed and not ended during subscribe: held from now on. */
  admit(subscription: Subscription): void {
    this.inner = subscription;
    this.registry.add(this);
  }

  forget(): void {
    this.registry.delete(this);
  }

  get subscription(): Subscription {
    return this;
  }

  get channels(): readonly string[] {
    return this.inner?.channels ?? [];
  }

  get lastId(): MessageId | undefined {
    return this.inner?.lastId;
  }

  get ended(): boolean {
    return this.inner?.ended ?? false;
  }

  get delivered(): number {
    return this.inner?.delivered ?? 0;
  }

  get endReason(): EndReason | undefined {
    return this.inner?.endReason;
  }

  end(reason: Exclude<EndReason, 'UNSUBSCRIBED'>): void {
    this.inner?.end(reason);
  }

  resume(): void {
    this.inner?.resume();
  }

  close(): Promise<void> {
    this.forget();
    return this.inner?.close() ?? Promise.resolve();
  }
}

/** The transport's sink, seen by the hub: a stream the hub ends is forgotten first. */
class HeldSink implements Sink {
  constructor(private readonly stream: HeldStream, private readonly sink: Sink) {}

  deliver(message: Message, id: MessageId): boolean {
    return this.sink.deliver(message, id);
  }

  end(reason: EndReason): void {
    this.stream.forget();
    this.sink.end(reason);
  }
}

/** Re-checks yield to the event loop this often, so a big fleet does not stall traffic. */
const YIELD_EVERY = 256;

/**
 * The open subscriber streams of a gateway, so that a reload can re-check each against the
 * new config and end those it no longer admits (the rest stay open: nchan drops them all).
 *
 * ```ts
 * const streams = new StreamRegistry({ current: () => state, check, logger });
 * const hub = streams.hold(admittedRequest(ctx), realHub, { channels: ['chat:lobby'], transport: 'websocket' });
 * await hub.subscribe(...);                    // held until it ends
 * const { kept, closed } = await streams.recheck(newState);
 * ```
 */
export class StreamRegistry {
  private readonly held = new Set<Held>();

  constructor(private readonly deps: StreamRegistryDeps) {}

  /** Open streams held right now. */
  get size(): number {
    return this.held.size;
  }

  /** `hub` with a `subscribe` whose subscriptions are held until they end. */
  hold(admitted: AdmittedRequest, hub: Pick<Hub, 'subscribe'>, shape: StreamShape): Pick<Hub, 'subscribe'> {
    return {
      subscribe: async (channels, cursor, sink, limits) => {
        const held = new HeldStream(this.held, admitted, shape);
        const subscription = await hub.subscribe(channels, cursor, new HeldSink(held, sink), limits);
        if (subscription.ended) return subscription;
        held.admit(subscription);
        // Admitted by a config that a reload replaced meanwhile: that reload's re-check did
        // not see this stream yet, so check it against the current config now.
        const current = this.deps.current();
        if (held.checked !== current) void this.checkOne(held, current);
        return held;
      },
    };
  }


  /**
   * Re-checks every held stream against `state` (the gateway's state just swapped in) and ends
   * those it no longer admits. A newer reload that lands meanwhile takes over: this one then
   * ends nothing more (the newer re-check decides) and counts the rest as kept.
   */
  async recheck(state: RuntimeState): Promise<RecheckSummary> {
    let kept = 0;
    const closedBy: Partial<Record<RecheckReason, number>> = {};
    let seen = 0;
    for (const held of [...this.held]) {
      if (++seen % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const outcome = await this.checkOne(held, state);
      if (outcome === 'gone') continue;
      if (outcome === 'kept') kept++;
      else closedBy[outcome] = (closedBy[outcome] ?? 0) + 1;
    }
    const closed = Object.values(closedBy).reduce((sum, n) => sum + n, 0);
    return { kept, closed, closedBy };
  }

  private async checkOne(held: Held, state: RuntimeState): Promise<'kept' | 'gone' | RecheckReason> {
    if (held.subscription.ended) {
      this.held.delete(held);
      return 'gone';
    }
    if (held.checked === state) return 'kept';
    let verdict: Verdict;
    try {
      verdict = await this.deps.check(held.admitted, held.shape, state);
    } catch (error) {
      this.deps.logger.error({ err: error, request_id: held.admitted.id, code: 'RECHECK_FAILED' }, 're-check of an open stream threw; closing it');
      verdict = { keep: false, reason: 'RECHECK_FAILED', detail: 'the re-check failed' };
    }
    if (held.subscription.ended) return 'gone';
    if (this.deps.current() !== state) return 'kept'; // superseded: the newer reload decides
    held.checked = state;
    if (verdict.keep) return 'kept';
    this.deps.logger.info(
      { event: 'stream_closed', request_id: held.admitted.id, route: held.admitted.route?.name ?? held.admitted.route?.id, reason: verdict.reason, detail: verdict.detail },
      'reload closed an open stream',
    );
    held.subscription.end(verdict.reason);
    return verdict.reason;
  }
}
