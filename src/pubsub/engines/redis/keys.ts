/**
 * The redis engine's key layout under one namespace (`redis_namespace`, default `sluice:`).
 * A channel's keys share the `{<channel>}` hash tag so they live in one Redis Cluster slot.
 *
 * | key                         | type   | holds                                               |
 * |-----------------------------|--------|-----------------------------------------------------|
 * | `<ns>ch:{<channel>}:m`      | hash   | last id, storage settings, activity/request times   |
 * | `<ns>ch:{<channel>}:b`      | list   | buffered messages, oldest first (codec.ts)          |
 * | `<ns>ch:{<channel>}:s`      | hash   | subscriber count per node id                        |
 * | `<ns>ch:{<channel>}:n`      | pubsub | notifications (`m` + entry, `d`) for that channel   |
 * | `<ns>channels`              | set    | every channel name (for stats)                      |
 * | `<ns>seq`                   | string | engine-wide publish sequence (INCR)                 |
 * | `<ns>node:<node id>`        | string | a node's lease (PX), renewed by its heartbeat       |
 *
 * @example
 *   const keys = channelKeys('sluice:', 'chat');
 *   keys.meta // 'sluice:ch:{chat}:m'
 */
export interface ChannelKeys {
  readonly meta: string;
  readonly buf: string;
  readonly subs: string;
  readonly notify: string;
}

export const DEFAULT_NAMESPACE = 'sluice:';

/** Prefix of every channel's keys (the stats script builds keys from it). */
export const channelPrefix = (ns: string): string => `${ns}ch:`;

export function channelKeys(ns: string, channel: string): ChannelKeys {
  const base = `${channelPrefix(ns)}{${channel}}:`;
  return { meta: `${base}m`, buf: `${base}b`, subs: `${base}s`, notify: `${base}n` };
}

export const channelsSetKey = (ns: string): string => `${ns}channels`;
export const seqKey = (ns: string): string => `${ns}seq`;
export const nodeKeyPrefix = (ns: string): string => `${ns}node:`;
