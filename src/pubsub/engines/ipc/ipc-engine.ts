/**
 * The `ipc` engine: a worker process's engine when `workers > 1` with the memory engine. Every
 * operation is a call to the primary's engine host (`engine-host.ts`), which owns the one
 * real memory engine, so ids, buffers, TTLs and counters are exactly the memory engine's.
 * Live feeds are per worker: the first local listener of a channel asks the primary for its
 * events (`listen`), the last one going away stops them (`unlisten`); each event that
 * arrives is fanned out to the local listeners.
 *
 * @example
 *   const engine = createIpcEngine(workerPort());           // in a cluster worker
 *   const gateway = await Gateway.start({ ...options, engine });
 */
import { PubsubError } from '../../errors.ts';
import type {
  AddSubscriberOptions, AddSubscriberResult, ChannelEvent, ChannelInfo, ChannelListener, ChannelStorage, Cursor,
  ChannelPage, Engine, EngineStats, FetchResult, PublishInput, PublishResult, Unsubscribe,
} from '../../engine.ts';
import {
  ENGINE_KIND, isEngineMessage, reviveMessage, type CallMessage, type EngineCalls, type EngineOp, type EnginePort,
  type EventMessage, type ReplyMessage,
} from './protocol.ts';

interface Feed {
  readonly listeners: Set<ChannelListener>;
  /** Settles once the primary has the feed (events may arrive before that). */
  readonly ready: Promise<unknown>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class IpcEngine implements Engine {
  private readonly pending = new Map<number, Pending>();
  private readonly feeds = new Map<string, Feed>();
  private nextId = 1;
  private closed = false;
  private readonly stopMessages: () => void;
  private readonly stopClose: (() => void) | undefined;

  constructor(private readonly port: EnginePort) {
    this.stopMessages = port.onMessage((m) => this.onMessage(m));
    this.stopClose = port.onClose?.(() => this.gone());
  }

  async publish(channel: string, input: PublishInput, storage: ChannelStorage): Promise<PublishResult> {
    const result = (await this.call('publish', [channel, input, storage])) as PublishResult;
    return { ...result, message: reviveMessage(result.message) };
  }

  async fetch(channel: string, cursor: Cursor): Promise<FetchResult> {
    const result = (await this.call('fetch', [channel, cursor])) as FetchResult;
    return { exists: result.exists, messages: result.messages.map(reviveMessage) };
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<Unsubscribe> {
    this.open();
    let feed = this.feeds.get(channel);
    if (feed === undefined) {
      feed = { listeners: new Set(), ready: this.call('listen', [channel]) };
      this.feeds.set(channel, feed);
    }
    const mine = feed;
    mine.listeners.add(listener);
    const unsubscribe = async (): Promise<void> => {
      if (!mine.listeners.delete(listener) || mine.listeners.size > 0) return;
      if (this.feeds.get(channel) === mine) this.feeds.delete(channel);
      if (!this.closed) await this.call('unlisten', [channel]).catch(() => undefined);
    };
    try {
      await mine.ready;
    } catch (e) {
      await unsubscribe();
      throw e;
    }
    return unsubscribe;
  }

  async info(channel: string): Promise<ChannelInfo | null> {
    return (await this.call('info', [channel])) as ChannelInfo | null;
  }

  async addSubscriber(channel: string, options: AddSubscriberOptions): Promise<AddSubscriberResult> {
    return (await this.call('addSubscriber', [channel, options])) as AddSubscriberResult;
  }

  async removeSubscriber(channel: string): Promise<number> {
    return (await this.call('removeSubscriber', [channel])) as number;
  }

  async delete(channel: string): Promise<ChannelInfo | null> {
    return (await this.call('delete', [channel])) as ChannelInfo | null;
  }

  async channels(prefix: string, cursor: string | null, limit: number): Promise<ChannelPage> {
    return (await this.call('channels', [prefix, cursor, limit])) as ChannelPage;
  }

  async stats(): Promise<EngineStats> {
    return (await this.call('stats', [])) as EngineStats;
  }

  /** Releases this worker's feeds and subscriber counts in the primary, then stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.call('detach', []).catch(() => undefined);
    this.gone();
  }

  private call<K extends EngineOp>(op: K, args: EngineCalls[K]): Promise<unknown> {
    this.open();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.port.send({ kind: ENGINE_KIND, t: 'call', id, op, args } as CallMessage);
      } catch (e) {
        // The channel to the primary is gone (it exited): the engine is, for this worker.
        this.pending.delete(id);
        this.gone();
        reject(e instanceof PubsubError ? e : closedError());
      }
    });
  }

  private onMessage(message: unknown): void {
    if (!isEngineMessage(message)) return;
    if (message.t === 'reply') this.onReply(message as ReplyMessage);
    else if (message.t === 'event') this.onEvent(message as EventMessage);
  }

  private onReply(reply: ReplyMessage): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(reply.error.code !== undefined ? new PubsubError(reply.error.code, reply.error.message) : new Error(reply.error.message));
  }

  private onEvent({ channel, event }: EventMessage): void {
    const feed = this.feeds.get(channel);
    if (feed === undefined) return;
    const local: ChannelEvent = event.type === 'message' ? { type: 'message', message: reviveMessage(event.message) } : event;
    for (const listener of [...feed.listeners]) {
      try {
        listener(local);
      } catch {
        // A listener's failure is its own, as in the memory engine.
      }
    }
  }

  /** Closed, or the primary went away: every waiting call fails with ENGINE_CLOSED. */
  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopMessages();
    this.stopClose?.();
    this.feeds.clear();
    for (const pending of this.pending.values()) pending.reject(closedError());
    this.pending.clear();
  }

  private open(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): PubsubError {
  return new PubsubError('ENGINE_CLOSED', 'the pub/sub engine is closed');
}

/** Creates the worker-side engine over `port` (see `cluster-ports.ts` for the real ones). */
export function createIpcEngine(port: EnginePort): Engine {
  return new IpcEngine(port);
}
