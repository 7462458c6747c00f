import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalStore, type CounterWindow, type RateLimitStore } from '../../src/plugins/bundled/rate-limiting/store.ts';

/**
 * The contract every rate-limiting store (policy) meets; the redis store will run it too:
 * `storeContract('redis', () => new RedisStore(...))`.
 */
export function storeContract(name: string, create: () => RateLimitStore): void {
  describe(`rate-limiting store contract: ${name}`, () => {
    const minute = (start: number, previous = false): CounterWindow => ({
      start,
      keepUntil: start + (previous ? 120_000 : 60_000),
      ...(previous ? { previousStart: start - 60_000 } : {}),
    });

    it('counts per key and window, all keys of one call together', async () => {
      const store = create();
      const w = minute(60_000);
      assert.deepEqual(await store.increment(['a', 'b'], [w, w], 60_001), [
        { current: 1, previous: 0 },
        { current: 1, previous: 0 },
      ]);
      assert.deepEqual(await store.increment(['a'], [w], 60_002), [{ current: 2, previous: 0 }]);
      assert.deepEqual(await store.increment(['a'], [minute(120_000)], 120_000), [{ current: 1, previous: 0 }]);
    });

    it('takes a count back without going below zero', async () => {
      const store = create();
      const w = minute(0);
      await store.increment(['k'], [w], 1);
      assert.deepEqual(await store.increment(['k'], [w], 2, -1), [{ current: 0, previous: 0 }]);
      assert.deepEqual(await store.increment(['k'], [w], 3, -1), [{ current: 0, previous: 0 }]);
    });

    it("answers the previous window's count when asked, until it expires", async () => {
      const store = create();
      for (let i = 0; i < 4; i++) await store.increment(['k'], [minute(0, true)], 10);
      assert.deepEqual(await store.increment(['k'], [minute(60_000, true)], 61_000), [{ current: 1, previous: 4 }]);
      assert.deepEqual(await store.increment(['k'], [minute(180_000, true)], 181_000), [{ current: 1, previous: 0 }]);
    });

    it('forgets a counter once its keepUntil has passed', async () => {
      const store = create();
      const w = minute(0);
      await store.increment(['k'], [w], 1);
      assert.deepEqual(await store.increment(['k'], [w], 60_000), [{ current: 1, previous: 0 }]);
    });

    it('N concurrent increments see N distinct values', async () => {
      const store = create();
      const w = minute(0);
      const seen = await Promise.all(Array.from({ length: 50 }, () => store.increment(['k'], [w], 5)));
      assert.deepEqual(seen.map((c) => c[0]!.current).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });
}

storeContract('local', () => new LocalStore());

describe('LocalStore memory', () => {
  it('drops expired windows as time passes', () => {
    const store = new LocalStore();
    for (let i = 0; i < 1000; i++) store.incrementSync([`ip-${i}`], [{ start: 0, keepUntil: 1000 }], 10);
    assert.equal(store.size, 1000);
    store.incrementSync(['late'], [{ start: 1000, keepUntil: 2000 }], 1500);
    assert.equal(store.size, 1);
  });

  it('evicts the oldest counters past its bound', () => {
    const store = new LocalStore(100);
    for (let i = 0; i < 250; i++) store.incrementSync([`ip-${i}`], [{ start: 0, keepUntil: 60_000 }], 1);
    assert.equal(store.size, 100);
    assert.deepEqual(store.incrementSync(['ip-249'], [{ start: 0, keepUntil: 60_000 }], 2), [{ current: 2, previous: 0 }]);
  });
});
