/**
 * The node's heartbeat: every `everyMs` it re-asserts its subscriber count of every channel it
 * holds (`presence.ts`, the `claim` script), which renews its lease on that channel's count (a
 * node that stops beating stops being counted) and the channel's expiry. After every
 * (re)connect it beats at once, so counts lost with a restarted or failed-over Redis are back
 * right away.
 *
 * @example
 *   const beat = new Heartbeat({ ready: () => links.cmd.isReady, everyMs: 5000, presence, claim, onError });
 *   await beat.first; // one beat went through
 *   await beat.release(1000); // engine close: drop this node's counts
 */
import type { ChannelStorage } from '../../engine.ts';
import type { Presence } from './presence.ts';

export interface HeartbeatOptions {
  /** Whether commands can be sent now. */
  readonly ready: () => boolean;
  readonly everyMs: number;
  readonly presence: Presence;
  /** Sends this node's count for one channel (the `claim` script). */
  readonly claim: (channel: string, count: number, storage: ChannelStorage) => Promise<unknown>;
  readonly onError: (error: Error, context: string) => void;
}

const NO_STORAGE: ChannelStorage = { bufferLength: 0, messageTimeout: 0, channelTimeout: 0 };

export class Heartbeat {
  /** Resolves after the first beat with Redis up. */
  readonly first: Promise<void>;
  private beaten: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: HeartbeatOptions) {
    this.first = new Promise((resolve) => (this.beaten = resolve));
    this.timer = setInterval(() => void this.beat(), options.everyMs);
    this.timer.unref();
  }

  /** Commands work (again): beat at once. */
  connected(): Promise<void> {
    return this.beat();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Drops this node's counts (engine close), so it stops being counted at once; bounded by `ms`. */
  async release(ms: number): Promise<void> {
    if (!this.options.ready()) return;
    const claims = this.options.presence.claims().map(({ channel, storage }) => this.options.claim(channel, 0, storage ?? NO_STORAGE).catch(() => 0));
    await Promise.race([Promise.all(claims), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
  }

  /** Sends the claims in one tick, so each claim carries exactly the adds and removes sent before it. */
  async beat(): Promise<void> {
    const { presence } = this.options;
    if (this.stopped || !this.options.ready()) return;
    let failed: unknown;
    await Promise.all(presence.claims().map(async ({ channel, count, storage }) => {
      try {
        await this.options.claim(channel, count, storage ?? NO_STORAGE);
      } catch (e) {
        failed ??= e;
        presence.markDirty(channel);
      }
    }));
    if (failed === undefined) this.beaten?.();
    else if (!this.stopped) this.options.onError(failed instanceof Error ? failed : new Error(String(failed)), 'heartbeat');
  }
}
