/**
 * What the redis engine needs from Redis, the same for a standalone Redis (`connection.ts`) and
 * a Redis Cluster (`cluster-connection.ts`): a command link that runs a command on the node that
 * owns a key, and a pub/sub link that listens to channels' notify keys. Both fail fast while
 * their Redis is unreachable and bound every call by the command timeout (a hung Redis answers
 * `ENGINE_UNAVAILABLE`, not never).
 *
 * @example
 *   const links = target.cluster ? new ClusterConnection(target, events, options) : new EngineConnection(target, events, options);
 *   await links.cmd.send(key, ['EVALSHA', sha, '1', key], true);
 *   await links.sub.subscribe(notifyKey, (payload) => …);
 */

export interface CommandLink {
  readonly isReady: boolean;
  /** Runs one command on the node that owns `key` (any node when undefined); `buffers` = bulk strings as Buffers. */
  send<T>(key: string | undefined, args: readonly (string | Buffer)[], buffers?: boolean): Promise<T>;
  /**
   * After a write to `key`: resolves once a replica acknowledged it (a cluster shard with
   * replicas), at once when there is no replica to wait for; rejects when none confirmed in time.
   */
  replicated(key: string): Promise<void>;
  /** The existing keys matching `pattern` on every master (cluster), for the per-slot indexes. */
  scan(pattern: string): Promise<string[]>;
}

export type PayloadListener = (payload: Buffer) => void;

export interface PubSubLink {
  /** False while any subscription may be missing messages (down, or being moved after a failover). */
  readonly isReady: boolean;
  /** Resolves once Redis confirmed the subscription. */
  subscribe(key: string, listener: PayloadListener): Promise<void>;
  unsubscribe(key: string, listener: PayloadListener): Promise<void>;
}

export interface LinkEvents {
  /** Commands work (first time or again). */
  readonly onCommandReady: () => void;
  /** A subscription may be missing messages from now on (first error of an outage). */
  readonly onSubscriberLost: () => void;
  /** Every subscription is back; `lostAt` = engine clock when the trouble began. */
  readonly onSubscriberBack: (lostAt: number) => void;
  readonly onError: (error: Error, connection: 'command' | 'subscriber') => void;
  readonly now: () => number;
}

export interface LinkOptions {
  readonly nodeId: string;
  /** Longest wait for any one Redis call (default 3000 ms). */
  readonly commandTimeoutMs: number;
  /** Cluster only: how long a publish waits for a replica's acknowledgement (0 = never waits). */
  readonly replicaWaitMs: number;
}

export interface EngineLinks {
  readonly cmd: CommandLink;
  readonly sub: PubSubLink;
  readonly cluster: boolean;
  /** Resolves once both sides were up once; never rejects (Redis may come later). */
  readonly ready: Promise<void>;
  readonly description: string;
  /** Resolves true once commands work (at once if they do), false after `timeoutMs`. */
  commandReady(timeoutMs?: number): Promise<boolean>;
  /** Drops every connection at once (pending commands reject). */
  close(): void;
}

/** Rejects with a timeout error when `work` takes longer than `ms` (Redis hung, not down). */
export function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0)) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis in ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
