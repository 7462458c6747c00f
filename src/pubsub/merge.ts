/** Replay of multiplexed subscriptions: buffered messages of several channels in publish order. */
import type { Message } from './engine.ts';

/** Merges per-channel lists (each oldest first) into publish order: (publishedAt, seq). */
export function mergeByPublishOrder(lists: readonly (readonly Message[])[]): { slot: number; message: Message }[] {
  const at = lists.map(() => 0);
  const out: { slot: number; message: Message }[] = [];
  for (;;) {
    let best = -1;
    let bestMsg: Message | undefined;
    lists.forEach((list, slot) => {
      const m = list[at[slot] ?? 0];
      if (m !== undefined && (bestMsg === undefined || m.publishedAt < bestMsg.publishedAt || (m.publishedAt === bestMsg.publishedAt && m.seq < bestMsg.seq))) {
        best = slot;
        bestMsg = m;
      }
    });
    if (bestMsg === undefined) return out;
    out.push({ slot: best, message: bestMsg });
    at[best] = (at[best] ?? 0) + 1;
  }
}
