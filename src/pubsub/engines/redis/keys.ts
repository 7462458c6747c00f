/**
 * The redis engine's key layout under one namespace (`redis_namespace`, default `sluice:`).
 * A channel's keys share the `{<channel>}` hash tag so they live in one Redis Cluster slot; the
 * two things that are not per channel (the channels index and the published counter) are kept
 * per slot on a cluster, under a tag that hashes to the channel's slot, so every script touches
 * one slot only. On a standalone Redis they are one key each, as they always were.
 *
 * | key                          | type   | holds                                               |
 * |------------------------------|--------|-----------------------------------------------------|
 * | `<ns>ch:{<channel>}:m`       | hash   | last id, storage settings, activity/request times   |
 * | `<ns>ch:{<channel>}:b`       | list   | buffered messages, oldest first (codec.ts)          |
 * | `<ns>ch:{<channel>}:s`       | hash   | per node: subscriber count and lease expiry         |
 * | `<ns>ch:{<channel>}:n`       | pubsub | notifications (`m` + entry, `d`) for that channel   |
 * | `<ns>channels`               | set    | every channel name (listing, stats) — standalone    |
 * | `<ns>seq`                    | string | messages ever published (stats) — standalone        |
 * | `<ns>channels:{<slot tag>}`  | set    | the names of the channels in that slot — cluster    |
 * | `<ns>seq:{<slot tag>}`       | string | messages published in that slot — cluster           |
 *
 * @example
 *   const keys = channelKeys('sluice:', 'chat');
 *   keys.meta // 'sluice:ch:{chat}:m'
 *   indexKeys('sluice:', keys, true) // { channels: 'sluice:channels:{…}', published: 'sluice:seq:{…}' } in chat's slot
 */
import { keySlot, SLOTS } from '../../../redis/slot.ts';

export interface ChannelKeys {
  readonly meta: string;
  readonly buf: string;
  readonly subs: string;
  readonly notify: string;
}

export interface IndexKeys {
  readonly channels: string;
  readonly published: string;
}

export const DEFAULT_NAMESPACE = 'sluice:';

export function channelKeys(ns: string, channel: string): ChannelKeys {
  const base = `${ns}ch:{${channel}}:`;
  return { meta: `${base}m`, buf: `${base}b`, subs: `${base}s`, notify: `${base}n` };
}

/** The index and counter a channel's scripts update (in the channel's slot on a cluster). */
export function indexKeys(ns: string, channel: ChannelKeys, cluster: boolean): IndexKeys {
  if (!cluster) return { channels: `${ns}channels`, published: `${ns}seq` };
  const tag = slotTag(keySlot(channel.meta));
  return { channels: `${ns}channels:{${tag}}`, published: `${ns}seq:{${tag}}` };
}

/** SCAN patterns that find every per-slot index / counter of a namespace on a cluster master. */
export const clusterIndexPatterns = (ns: string): IndexKeys => ({ channels: `${ns}channels:{*}`, published: `${ns}seq:{*}` });

/** The per-slot counter that goes with a per-slot index (same tag), or with the standalone one. */
export function publishedKeyOf(ns: string, channelsKey: string): string {
  return `${ns}seq${channelsKey.slice(`${ns}channels`.length)}`;
}

let tags: string[] | undefined;

/** A short string whose hash slot is `slot` (found once for all 16384 slots, ~50 ms). */
export function slotTag(slot: number): string {
  if (tags === undefined) {
    const found: string[] = new Array<string>(SLOTS);
    let missing = SLOTS;
    for (let n = 0; missing > 0; n++) {
      const tag = n.toString(36);
      const s = keySlot(tag);
      if (found[s] === undefined) {
        found[s] = tag;
        missing--;
      }
    }
    tags = found;
  }
  return tags[slot] as string;
}
