/**
 * A bounded least-recently-used map: a `Map` from key to slot plus a doubly linked recency list
 * kept in preallocated typed arrays, so a hit or an eviction is O(1) and allocates nothing.
 * (The simpler "re-insert into a Map, evict its first key" trick degrades under constant
 * eviction: V8 leaves deleted entries in place and `keys().next()` walks over them.)
 * Memory stays bounded however many distinct keys (random paths, header values) clients send.
 */
const NONE = -1;

export class LruCache<K, V> {
  private readonly slots = new Map<K, number>();
  private readonly keys: (K | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Most recently used slot. */
  private head = NONE;
  /** Least recently used slot: the next to be evicted. */
  private tail = NONE;
  private used = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1) || !Number.isInteger(capacity)) throw new RangeError('LRU capacity must be a positive integer');
    this.keys = new Array<K | undefined>(capacity);
    this.values = new Array<V | undefined>(capacity);
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
  }

  get size(): number {
    return this.used;
  }

  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.touch(slot);
    return this.values[slot];
  }

  set(key: K, value: V): void {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      if (this.used < this.capacity) {
        slot = this.used++;
      } else {
        slot = this.tail;
        this.slots.delete(this.keys[slot] as K);
        this.unlink(slot);
      }
      this.slots.set(key, slot);
      this.keys[slot] = key;
      this.pushFront(slot);
    } else {
      this.touch(slot);
    }
    this.values[slot] = value;
  }

  private touch(slot: number): void {
    if (slot === this.head) return;
    this.unlink(slot);
    this.pushFront(slot);
  }

  private unlink(slot: number): void {
    const before = this.prev[slot] as number;
    const after = this.next[slot] as number;
    if (before === NONE) this.head = after;
    else this.next[before] = after;
    if (after === NONE) this.tail = before;
    else this.prev[after] = before;
    this.prev[slot] = NONE;
    this.next[slot] = NONE;
  }

  private pushFront(slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail === NONE) this.tail = slot;
  }
}
