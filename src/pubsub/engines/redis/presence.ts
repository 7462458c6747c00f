/**
 * This node's part of the cluster-wide subscriber counts. Redis holds, per channel, one count
 * per node id; a node's counts only count while its lease key lives. The node keeps its own
 * counts here and, on every heartbeat, renews its lease and re-asserts them (`claim`), so:
 * - a node that dies stops being counted once its lease lapses (at most `leaseMs`);
 * - after Redis lost them (restart, failover, a lapsed lease), the counts are back within one
 *   heartbeat;
 * - channels with subscribers keep their keys alive (their expiry is renewed with the claim).
 *
 * A channel with an add or remove still in flight is not claimed on that beat (Redis runs one
 * connection's commands in order, so the claim would run after the command but carry the count
 * from before its reply); it is claimed on the next one.
 *
 * @example
 *   presence.beginAdd('chat', storage); … presence.endAdd('chat', 'ok');
 *   presence.beginRemove('chat'); … presence.endRemove('chat', true);
 */
import type { ChannelStorage } from '../../engine.ts';

interface Held {
  /** Subscribers Redis confirmed (removes count down when sent). */
  count: number;
  /** Adds and removes sent but not answered yet. */
  inflight: number;
  storage: ChannelStorage;
}

export type AddOutcome = 'ok' | 'refused' | 'failed';

export class Presence {
  private readonly held = new Map<string, Held>();
  /** Channels whose count Redis may have wrong (a command failed): claimed on the next beat. */
  private readonly dirty = new Set<string>();

  beginAdd(channel: string, storage: ChannelStorage): void {
    const h = this.held.get(channel);
    if (h === undefined) this.held.set(channel, { count: 0, inflight: 1, storage });
    else h.inflight++;
  }

  /** `failed` = no answer: Redis may have counted it anyway, so the next beat re-asserts. */
  endAdd(channel: string, outcome: AddOutcome): void {
    const h = this.held.get(channel);
    if (h === undefined) return;
    h.inflight--;
    if (outcome === 'ok') h.count++;
    if (outcome === 'failed') this.dirty.add(channel);
    this.settle(channel, h);
  }

  beginRemove(channel: string): void {
    const h = this.held.get(channel);
    if (h === undefined) return;
    h.count = Math.max(0, h.count - 1);
    h.inflight++;
  }

  endRemove(channel: string, ok: boolean): void {
    const h = this.held.get(channel);
    if (!ok) this.dirty.add(channel);
    if (h === undefined) return;
    h.inflight--;
    this.settle(channel, h);
  }

  /** What to claim now: settled held channels plus settled dirty ones (count 0 = drop ours). */
  claims(): { channel: string; count: number; storage: ChannelStorage | undefined }[] {
    const out: { channel: string; count: number; storage: ChannelStorage | undefined }[] = [];
    for (const [channel, h] of this.held) if (h.inflight === 0) out.push({ channel, count: h.count, storage: h.storage });
    for (const channel of this.dirty) {
      const h = this.held.get(channel);
      if (h === undefined) out.push({ channel, count: 0, storage: undefined });
      if (h === undefined || h.inflight === 0) this.dirty.delete(channel);
    }
    return out;
  }

  markDirty(channel: string): void {
    this.dirty.add(channel);
  }

  clear(): void {
    this.held.clear();
    this.dirty.clear();
  }

  private settle(channel: string, h: Held): void {
    if (h.count === 0 && h.inflight === 0) this.held.delete(channel);
  }
}
