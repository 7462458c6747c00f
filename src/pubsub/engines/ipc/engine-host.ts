/**
 * The primary's side of the `ipc` engine: one real engine (memory) served to every worker
 * over its port. Per channel the host keeps the set of workers listening and sends each
 * event once per worker (the worker fans out locally). It also remembers the subscribers
 * each worker counted, so a worker that dies or detaches stops being counted.
 *
 * @example
 *   const host = createEngineHost(createMemoryEngine());
 *   cluster.on('fork', (worker) => {
 *     const detach = host.attach(primaryPort(worker));
 *     worker.once('exit', () => void detach());
 *   });
 */
import type { ChannelEvent, Engine, Unsubscribe } from '../../engine.ts';
import { isPubsubError } from '../../errors.ts';
import { asCall, ENGINE_KIND, type CallMessage, type EnginePort, type WireError } from './protocol.ts';

export interface EngineHost {
  /**
   * Serves the engine on `port`; the returned function (also run when the port closes)
   * releases everything the port held and resolves once that is done.
   */
  attach(port: EnginePort): () => Promise<void>;
  /** Detaches every port. The engine is the caller's to close. */
  close(): Promise<void>;
}

/** What one worker holds in the shared engine. */
class Attachment {
  readonly feeds = new Map<string, Promise<Unsubscribe>>();
  /** Subscribers this worker added and has not removed, per channel. */
  readonly counted = new Map<string, number>();
  /** Set by the host once the port's handlers are installed. */
  stop: () => void = () => {};

  constructor(private readonly engine: Engine, private readonly port: EnginePort) {}

  /** Runs one call; the reply goes back on the port. */
  async handle(call: CallMessage): Promise<void> {
    try {
      const value = await this.run(call);
      this.port.send({ kind: ENGINE_KIND, t: 'reply', id: call.id, ok: true, value });
    } catch (e) {
      const error: WireError = isPubsubError(e) ? { code: e.code, message: e.message } : { message: e instanceof Error ? e.message : String(e) };
      this.port.send({ kind: ENGINE_KIND, t: 'reply', id: call.id, ok: false, error });
    }
  }

  private async run(call: CallMessage): Promise<unknown> {
    const { engine } = this;
    switch (call.op) {
      case 'publish':
        return engine.publish(...call.args);
      case 'fetch':
        return engine.fetch(...call.args);
      case 'info':
        return engine.info(...call.args);
      case 'delete':
        return engine.delete(...call.args);
      case 'stats':
        return engine.stats();
      case 'channels':
        return engine.channels(...call.args);
      case 'addSubscriber': {
        const result = await engine.addSubscriber(...call.args);
        if (result.ok) this.counted.set(call.args[0], (this.counted.get(call.args[0]) ?? 0) + 1);
        return result;
      }
      case 'removeSubscriber':
        return this.removeSubscriber(call.args[0]);
      case 'listen':
        return this.listen(call.args[0]);
      case 'unlisten':
        return this.unlisten(call.args[0]);
      case 'detach':
        return this.release();
    }
  }

  /** Only what this worker counted is uncounted: a worker never releases another's subscribers. */
  private async removeSubscriber(channel: string): Promise<number> {
    const mine = this.counted.get(channel) ?? 0;
    if (mine === 0) return (await this.engine.info(channel))?.subscribers ?? 0;
    if (mine === 1) this.counted.delete(channel);
    else this.counted.set(channel, mine - 1);
    return this.engine.removeSubscriber(channel);
  }

  private async listen(channel: string): Promise<void> {
    if (this.feeds.has(channel)) return;
    const send = (event: ChannelEvent) => this.port.send({ kind: ENGINE_KIND, t: 'event', channel, event });
    const feed = this.engine.subscribe(channel, send);
    this.feeds.set(channel, feed);
    await feed;
  }

  private async unlisten(channel: string): Promise<void> {
    const feed = this.feeds.get(channel);
    if (feed === undefined) return;
    this.feeds.delete(channel);
    await (await feed)();
  }

  /** Drops this worker's feeds and subscriber counts; a second call finds nothing left. */
  async release(): Promise<void> {
    const feeds = [...this.feeds.values()];
    const counted = [...this.counted];
    this.feeds.clear();
    this.counted.clear();
    await Promise.allSettled(feeds.map(async (feed) => (await feed)()));
    for (const [channel, n] of counted) {
      for (let i = 0; i < n; i++) await this.engine.removeSubscriber(channel).catch(() => 0);
    }
  }
}

class Host implements EngineHost {
  private readonly attachments = new Set<Attachment>();

  constructor(private readonly engine: Engine) {}

  attach(port: EnginePort): () => Promise<void> {
    const attachment = new Attachment(this.engine, port);
    // Calls run as they arrive: the memory engine does its work before its first await, so a
    // worker's calls (and the events they cause) keep the order the worker sent them in.
    const stopMessages = port.onMessage((message) => {
      const call = asCall(message);
      if (call !== undefined) void attachment.handle(call);
    });
    let detaching: Promise<void> | undefined;
    const detach = (): Promise<void> => {
      detaching ??= (async () => {
        this.attachments.delete(attachment);
        attachment.stop();
        await attachment.release();
      })();
      return detaching;
    };
    const stopClose = port.onClose?.(() => void detach());
    attachment.stop = () => {
      stopMessages();
      stopClose?.();
    };
    this.attachments.add(attachment);
    return detach;
  }

  async close(): Promise<void> {
    const all = [...this.attachments];
    this.attachments.clear();
    for (const a of all) a.stop();
    await Promise.allSettled(all.map((a) => a.release()));
  }
}

export function createEngineHost(engine: Engine): EngineHost {
  return new Host(engine);
}
