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

/** Counts written into arrays the caller owns: `current[i]`, `previous[i]` for `windows[i]`. */
export interface CountsOut {
  readonly current: number[];
  readonly previous: number[];
}

/**
 * The counters of one rate-limiting instance, by identifier; `name` is the instance's key
 * prefix (undefined for the scope of `increment`'s keys).
 */
interface Scope {
  readonly name: string | undefined;
  readonly owners: Map<string, Owner>;
}

/** Everything counted for one identifier of a scope (or one key), in every slot and window. */
interface Owner {
  readonly scope: Scope;
  readonly id: string;
  readonly counters: Counter[];
}

/** One counter: an owner's count in one slot (the handler's period) and window. */
interface Counter {
  readonly owner: Owner;
  readonly slot: number;
  readonly start: number;
  readonly keepUntil: number;
  count: number;
}

/**
 * Kong's `local` policy: counters in this process's memory, like the per-node shm dict.
 * Memory is bounded: counters are grouped by expiry time (few distinct values, since every
 * counter of a window expires together), expired groups are dropped as time passes, and past
 * `maxCounters` the oldest counter is evicted (as the shm dict evicts under pressure).
 *
 * The handler counts through {@link LocalStore.incrementFor}: counters by instance (scope) and
 * identifier, one slot per period, found with Map lookups on strings V8 has already hashed (the
 * instance's key prefix, a consumer id or client IP) where `increment` would build and hash a
 * `<prefix><identifier>}:<period>|<start>` string per window and request. `increment`'s keys
 * are the owners of a scope of their own.
 */
export class LocalStore implements RateLimitStore {
  readonly #scopes = new Map<string, Scope>();
  readonly #keys: Scope = { name: undefined, owners: new Map() };
  /** Every live counter, oldest first (the eviction order). */
  readonly #live = new Set<Counter>();
  readonly #byExpiry = new Map<number, Counter[]>();
  #nextSweep = 0;

  constructor(private readonly maxCounters = 1_000_000) {}

  /** Live counters, for tests and metrics. */
  get size(): number {
    return this.#live.size;
  }

  /** Scopes holding live counters (an instance's scope goes with its last counter), for tests. */
  get scopes(): number {
    return this.#scopes.size;
  }

  increment(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): Promise<readonly WindowCount[]> {
    return Promise.resolve(this.incrementSync(keys, windows, now, by));
  }

  /** The same, synchronously: the whole update happens before anyone else runs. */
  incrementSync(keys: readonly string[], windows: readonly CounterWindow[], now: number, by = 1): WindowCount[] {
    if (now >= this.#nextSweep) this.#sweep(now);
    const counts: CountsOut = { current: [0], previous: [0] };
    const out: WindowCount[] = new Array<WindowCount>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      this.#count(this.#keys, keys[i]!, SLOT_0, [windows[i]!], now, by, counts);
      out[i] = { current: counts.current[0]!, previous: counts.previous[0]! };
    }
    return out;
  }

  /**
   * The handler's count: adds `by` to `identifier`'s counter in `slots[i]` / `windows[i]` of the
   * instance scope `scope` (every window at once, synchronously) and writes the new counts, and
   * the previous windows' where asked, into `out`.
   */
  incrementFor(scope: string, identifier: string, slots: readonly number[], windows: readonly CounterWindow[], now: number, by: number, out: CountsOut): void {
    if (now >= this.#nextSweep) this.#sweep(now);
    let counters = this.#scopes.get(scope);
    if (counters === undefined) this.#scopes.set(scope, (counters = { name: scope, owners: new Map() }));
    this.#count(counters, identifier, slots, windows, now, by, out);
    // Kept while it has counters: taking back from nothing leaves nothing behind, and a scope
    // emptied by replacing its last (expired) counter is registered again.
    if (counters.owners.size === 0) this.#forget(counters);
    else if (this.#scopes.get(scope) !== counters) this.#scopes.set(scope, counters);
  }

  /** The counting itself, in one scope (sweeping is the caller's). */
  #count(scope: Scope, id: string, slots: readonly number[], windows: readonly CounterWindow[], now: number, by: number, out: CountsOut): void {
    let owner = scope.owners.get(id);
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i]!;
      const slot = slots[i]!;
      let counter = owner === undefined ? undefined : find(owner, slot, window.start);
      if (counter === undefined || counter.keepUntil <= now) {
        if (by > 0) {
          if (counter !== undefined) {
            this.#drop(counter);
            // Its last counter gone, the owner left the scope: a new one takes its place.
            if (counter.owner.counters.length === 0) owner = undefined;
          }
          owner ??= ownerIn(scope, id);
          counter = { owner, slot, start: window.start, keepUntil: window.keepUntil, count: 0 };
          this.#add(counter);
        } else {
          counter = undefined;
        }
      }
      let current = 0;
      if (counter !== undefined) current = counter.count = Math.max(0, counter.count + by);
      let previous = 0;
      if (window.previousStart !== undefined && owner !== undefined) {
        const before = find(owner, slot, window.previousStart);
        if (before !== undefined && before.keepUntil > now) previous = before.count;
      }
      out.current[i] = current;
      out.previous[i] = previous;
    }
  }

  #add(counter: Counter): void {
    counter.owner.counters.push(counter);
    this.#live.add(counter);
    let group = this.#byExpiry.get(counter.keepUntil);
    if (group === undefined) this.#byExpiry.set(counter.keepUntil, (group = []));
    group.push(counter);
    if (this.#live.size > this.maxCounters) {
      const oldest = this.#live.values().next().value;
      if (oldest !== undefined) this.#drop(oldest);
    }
  }

  /** Forgets a counter, its owner once it has none left, and then its scope once that is empty. */
  #drop(counter: Counter): void {
    if (!this.#live.delete(counter)) return;
    const { owner } = counter;
    const at = owner.counters.indexOf(counter);
    if (at !== -1) owner.counters.splice(at, 1);
    if (owner.counters.length > 0) return;
    const { scope } = owner;
    if (scope.owners.get(owner.id) === owner) scope.owners.delete(owner.id);
    if (scope.owners.size === 0) this.#forget(scope);
  }

  #forget(scope: Scope): void {
    if (scope.name !== undefined && this.#scopes.get(scope.name) === scope) this.#scopes.delete(scope.name);
  }

  /** Drops every group whose time has come; at most once per 100 ms of clock time. */
  #sweep(now: number): void {
    this.#nextSweep = now + 100;
    for (const [keepUntil, counters] of this.#byExpiry) {
      if (keepUntil > now) continue;
      for (const counter of counters) this.#drop(counter);
      this.#byExpiry.delete(keepUntil);
    }
  }
}

const SLOT_0: readonly number[] = [0];

function find(owner: Owner, slot: number, start: number): Counter | undefined {
  const counters = owner.counters;
  for (let i = 0; i < counters.length; i++) {
    const counter = counters[i]!;
    if (counter.slot === slot && counter.start === start) return counter;
  }
  return undefined;
}

function ownerIn(scope: Scope, id: string): Owner {
  const owner: Owner = { scope, id, counters: [] };
  scope.owners.set(id, owner);
  return owner;
}
