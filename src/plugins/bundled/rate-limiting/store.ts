/**
 * Where rate-limiting counters live (Kong's `policy`). A store adds to a set of counters in
 * one atomic step and answers their new values, so a request is counted and compared without
 * a gap another request could slip into. `local` is below; `redis` (redis-store.ts, on a Redis
 * Cluster redis-cluster-store.ts) and its batched form (`sync_rate`, batched-store.ts) run the
 * same contract tests (`test/conformance/rate-limit-store-contract.ts`). On a cluster the keys of
 * one call must share a `{hash tag}`, as the handler's do.
 */
export interface RateLimitStore {
  /**
   * Adds `by` (1 to count a request, -1 to take back a refused one) to the counter of each
   * `keys[i]` in `windows[i]`, atomically for the whole list, and answers, in order, each
   * counter's new value and (when `windows[i].previousStart` is set) the final value of the
   * counter of the window before it. `now` lets the store drop what has expired.
   */
  increment(keys: readonly string[], windows: readonly CounterWindow[], now: number, by?: number): Promise<readonly WindowCount[]>;
}

export interface CounterWindow {
  /** Start of the window (ms); with the key, it names the counter. */
  readonly start: number;
  /** From when the counter can be forgotten (ms): its window's end, or the next window's when it will serve as a previous window. */
  readonly keepUntil: number;
  /** Start of the window before, when its count is wanted (sliding windows). */
  readonly previousStart?: number;
}

export interface WindowCount {
  readonly current: number;
  readonly previous: number;
}

interface Counter {
  count: number;
  readonly keepUntil: number;
}

/**
 * Kong's `local` policy: counters in this process's memory, like the per-node shm dict.
 * Memory is bounded: counters are grouped by expiry time (few distinct values, since every
 * counter of a window expires together), expired groups are dropped as time passes, and past
 * `maxCounters` the oldest counter is evicted (as the shm dict evicts under pressure).
 */
export class LocalStore implements RateLimitStore {
  readonly #counters = new Map<string, Counter>();
  readonly #byExpiry = new Map<number, string[]>();
  #nextSweep = 0;

  constructor(private readonly maxCounters = 1_000_000) {}

  /** Live counters, for tests and metrics. */
  get size(): number {
    return this.#counters.size;
  }

  increment(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): Promise<readonly WindowCount[]> {
    return Promise.resolve(this.incrementSync(keys, windows, now, by));
  }

  /** The same, synchronously: the whole update happens before anyone else runs. */
  incrementSync(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): WindowCount[] {
    if (now >= this.#nextSweep) this.#sweep(now);
    const out: WindowCount[] = new Array<WindowCount>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const window = windows[i]!;
      const id = `${key}|${window.start}`;
      let counter = this.#counters.get(id);
      if (counter === undefined || counter.keepUntil <= now) {
        counter = { count: 0, keepUntil: window.keepUntil };
        if (by > 0) this.#add(id, counter);
      }
      counter.count = Math.max(0, counter.count + by);
      let previous = 0;
      if (window.previousStart !== undefined) {
        const before = this.#counters.get(`${key}|${window.previousStart}`);
        if (before !== undefined && before.keepUntil > now) previous = before.count;
      }
      out[i] = { current: counter.count, previous };
    }
    return out;
  }

  #add(id: string, counter: Counter): void {
    this.#counters.set(id, counter);
    let group = this.#byExpiry.get(counter.keepUntil);
    if (group === undefined) this.#byExpiry.set(counter.keepUntil, (group = []));
    group.push(id);
    if (this.#counters.size > this.maxCounters) {
      const oldest = this.#counters.keys().next().value;
      if (oldest !== undefined) this.#counters.delete(oldest);
    }
  }

  /** Drops every group whose time has come; at most once per 100 ms of clock time. */
  #sweep(now: number): void {
    this.#nextSweep = now + 100;
    for (const [keepUntil, ids] of this.#byExpiry) {
      if (keepUntil > now) continue;
      for (const id of ids) {
        const counter = this.#counters.get(id);
        if (counter !== undefined && counter.keepUntil <= now) this.#counters.delete(id);
      }
      this.#byExpiry.delete(keepUntil);
    }
  }
}
