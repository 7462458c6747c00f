/**
 * Kong's `sync_rate > 0` for the redis policy: requests are counted against this node's view
 * (the totals last read from Redis plus what this node counted since), and every `sync_rate`
 * seconds the node's deltas are added to Redis and the totals read back. No Redis round trip per
 * request; the cluster-wide limit can be overshot by what the nodes count within one interval,
 * as in Kong.
 *
 * @example
 *   const store = new BatchedStore(redisStoreFor(connection), 1000);
 *   store.increment(keys, windows, Date.now()); // answers at once from the local view
 */
import type { CounterWindow, RateLimitStore, WindowCount } from './store.ts';

interface Entry {
  readonly key: string;
  readonly window: CounterWindow;
  /** The total Redis answered at the last sync (all nodes). */
  synced: number;
  syncedPrevious: number;
  /** Counted here since the last sync. */
  delta: number;
}

export class BatchedStore implements RateLimitStore {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly central: RateLimitStore,
    intervalMs: number,
    private readonly onError: (message: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.sync(), intervalMs);
    this.timer.unref();
  }

  increment(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): Promise<readonly WindowCount[]> {
    return Promise.resolve(keys.map((key, i) => {
      const window = windows[i] as CounterWindow;
      const id = `${key}|${window.start}`;
      let entry = this.entries.get(id);
      if (entry === undefined || entry.window.keepUntil <= now) {
        entry = { key, window, synced: 0, syncedPrevious: 0, delta: 0 };
        this.entries.set(id, entry);
      }
      entry.delta += by;
      return { current: Math.max(0, entry.synced + entry.delta), previous: window.previousStart === undefined ? 0 : entry.syncedPrevious };
    }));
  }

  /** Sends every delta and reads the totals back; a failed sync keeps the deltas for the next one. */
  sync(): Promise<void> {
    this.syncing ??= this.flush().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async flush(): Promise<void> {
    const now = this.now();
    const work: Promise<void>[] = [];
    for (const [id, entry] of this.entries) {
      if (entry.window.keepUntil <= now) {
        this.entries.delete(id);
        continue;
      }
      const sent = entry.delta;
      work.push(this.central.increment([entry.key], [entry.window], now, sent).then(([count]) => {
        entry.delta -= sent;
        entry.synced = count?.current ?? 0;
        entry.syncedPrevious = count?.previous ?? 0;
      }));
    }
    const failures = (await Promise.allSettled(work)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) this.onError(`rate-limiting sync failed for ${failures.length} counter(s): ${String((failures[0]?.reason as Error)?.message ?? failures[0]?.reason)}`);
  }
}
