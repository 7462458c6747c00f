/**
 * Channel policies: the snapshot's `channels` entries compiled once per snapshot into
 * `policyFor(channelId)`.
 *
 * Matching: `match` is the whole channel id with `*` standing for any run of characters
 * (possibly empty); every other character is literal. **Most specific wins**: among the
 * patterns that match, the one with the most literal (non-`*`) characters wins; on a tie, the
 * one with fewer `*`; then the one written first in the file. So `chat:room:1` beats
 * `chat:room:*`, which beats `chat:*`, which beats `*`. Fields a winning entry leaves unset take
 * nchan's defaults (they are not inherited from less specific patterns).
 *
 * @example
 *   const policies = compileChannelPolicies(snapshot.channels);
 *   policies.policyFor('chat:42').bufferLength // 100
 */
import type { ChannelConfig } from '../config/types.ts';
import type { ChannelStorage } from './engine.ts';

export interface ChannelPolicy {
  /** Name of the `channels` entry that matched, or undefined for the defaults. */
  readonly name?: string;
  /** nchan_message_buffer_length (default 10). */
  readonly bufferLength: number;
  /** nchan_message_timeout in seconds (default 3600, 0 = never). */
  readonly messageTimeout: number;
  /** Seconds an empty channel lingers (default 0: removed as soon as it is empty). */
  readonly channelTimeout: number;
  /** Per channel; 0 = unlimited. */
  readonly maxSubscribers: number;
  /** Bytes; 0 = unlimited. */
  readonly maxMessageSize: number;
  /** nchan_subscribe_existing_channels_only (default false). */
  readonly subscribeExistingOnly: boolean;
  /** nchan_channel_events_channel_id: the meta channel (`meta/<id>`) this channel's events go to. */
  readonly eventsChannel?: string;
}

export const DEFAULT_CHANNEL_POLICY: ChannelPolicy = {
  bufferLength: 10,
  messageTimeout: 3600,
  channelTimeout: 0,
  maxSubscribers: 0,
  maxMessageSize: 0,
  subscribeExistingOnly: false,
};

export interface ChannelPolicies {
  policyFor(channelId: string): ChannelPolicy;
}

/** The engine-facing part of a policy. */
export function storageOf(policy: ChannelPolicy): ChannelStorage {
  return { bufferLength: policy.bufferLength, messageTimeout: policy.messageTimeout, channelTimeout: policy.channelTimeout };
}

interface Compiled {
  readonly exact?: string;
  readonly regex?: RegExp;
  readonly literal: number;
  readonly stars: number;
  readonly policy: ChannelPolicy;
}

function toPolicy(c: ChannelConfig): ChannelPolicy {
  const d = DEFAULT_CHANNEL_POLICY;
  return {
    name: c.name,
    bufferLength: c.message_buffer_length ?? d.bufferLength,
    messageTimeout: c.message_timeout ?? d.messageTimeout,
    channelTimeout: c.channel_timeout ?? d.channelTimeout,
    maxSubscribers: c.max_subscribers ?? d.maxSubscribers,
    maxMessageSize: c.max_message_size ?? d.maxMessageSize,
    subscribeExistingOnly: c.subscribe_existing_only ?? d.subscribeExistingOnly,
    ...(c.events_channel !== undefined ? { eventsChannel: `${META_PREFIX}${c.events_channel}` } : {}),
  };
}

/** nchan's reserved `meta` group: channel events live there, and nobody may publish to it. */
export const META_PREFIX = 'meta/';

function compile(c: ChannelConfig): Compiled {
  const stars = c.match.split('*').length - 1;
  const literal = c.match.length - stars;
  if (stars === 0) return { exact: c.match, literal, stars, policy: toPolicy(c) };
  const source = c.match.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return { regex: new RegExp(`^${source}$`, 's'), literal, stars, policy: toPolicy(c) };
}

/** Narrows the snapshot's raw rows (already validated against the schema by the loader). */
export function asChannelConfig(entry: ChannelConfig | Readonly<Record<string, unknown>>): ChannelConfig {
  const row = entry as Readonly<Record<string, unknown>>;
  if (typeof row.name !== 'string' || typeof row.match !== 'string') {
    throw new TypeError('a channels entry needs a string name and match');
  }
  return row as unknown as ChannelConfig;
}

/** Compiles the entries; `policyFor` caches per channel id (bounded). */
export function compileChannelPolicies(entries: readonly (ChannelConfig | Readonly<Record<string, unknown>>)[]): ChannelPolicies {
  const compiled = entries
    .map((e) => compile(asChannelConfig(e)))
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.literal - a.c.literal || a.c.stars - b.c.stars || a.i - b.i)
    .map(({ c }) => c);
  const exact = new Map<string, ChannelPolicy>();
  for (const c of compiled) if (c.exact !== undefined && !exact.has(c.exact)) exact.set(c.exact, c.policy);
  const cache = new Map<string, ChannelPolicy>();
  const CACHE_MAX = 10_000;
  return {
    policyFor(channelId: string): ChannelPolicy {
      const hit = exact.get(channelId) ?? cache.get(channelId);
      if (hit !== undefined) return hit;
      // Exact patterns were checked above; an exact pattern always outranks a wildcard one
      // with the same literal count, and a longer wildcard pattern cannot match a shorter id.
      let found = DEFAULT_CHANNEL_POLICY;
      for (const c of compiled) {
        if (c.regex?.test(channelId) === true) {
          found = c.policy;
          break;
        }
      }
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(channelId, found);
      return found;
    },
  };
}
