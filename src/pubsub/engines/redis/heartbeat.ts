/**
 * The node's heartbeat: every `everyMs` it renews its lease (`<ns>node:<id>`, `leaseMs` long)
 * and re-asserts its subscriber counts (`presence.ts`), which also renews the expiry of the
 * channels it holds. After every (re)connect it loads the scripts and beats at once, so counts
 * lost with a restarted Redis are back right away.
 *
 * @example
 *   const beat = new Heartbeat({ client, nodeKey, leaseMs: 15000, everyMs: 5000, presence, claim, onError });
 *   await beat.first; // the lease exists
 *   beat.stop();
 */
import type { ChannelStorage } from '../../engine.ts';
import type { RedisClient } from '../../../redis/connect.ts';
import type { Presence } from './presence.ts';
import { loadScripts, runScript } from './scripts.ts';

export interface HeartbeatOptions {
  readonly client: RedisClient;
  readonly nodeKey: string;
  readonly leaseMs: number;
  readonly everyMs: number;
  readonly presence: Presence;
  /** Sends this node's count for one channel (the `claim` script). */
  readonly claim: (channel: string, count: number, storage: ChannelStorage) => Promise<unknown>;
  readonly onError: (error: Error, context: string) => void;
}

const NO_STORAGE: ChannelStorage = { bufferLength: 0, messageTimeout: 0, channelTimeout: 0 };
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export class Heartbeat {
  /** Resolves after the first successful lease renewal. */
  readonly first: Promise<void>;
  private beaten: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: HeartbeatOptions) {
    this.first = new Promise((resolve) => (this.beaten = resolve));
    this.timer = setInterval(() => void this.beat(), options.everyMs);
    this.timer.unref();
  }

  /** The command connection is (back) up. */
  async connected(): Promise<void> {
    try {
      await loadScripts(this.options.client);
    } catch (e) {
      this.options.onError(asError(e), 'loading scripts');
    }
    await this.beat();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /**
   * Renews the lease and sends the claims in one tick, so each claim carries exactly the adds
   * and removes sent before it.
   */
  async beat(): Promise<void> {
    const { client, presence } = this.options;
    if (this.stopped || !client.isReady) return;
    const lease = runScript(client, 'heartbeat', [this.options.nodeKey], [String(this.options.leaseMs)]);
    const claims = presence.claims().map(async ({ channel, count, storage }) => {
      try {
        await this.options.claim(channel, count, storage ?? NO_STORAGE);
      } catch {
        presence.markDirty(channel);
      }
    });
    try {
      await lease;
      this.beaten?.();
    } catch (e) {
      if (!this.stopped) this.options.onError(asError(e), 'heartbeat');
    }
    await Promise.all(claims);
  }
}
