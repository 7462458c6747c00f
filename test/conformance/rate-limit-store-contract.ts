/**
 * The contract every rate-limiting store (policy) meets: `local`, `redis` and its batched form
 * (test/unit/plugin-rate-limiting-store.test.ts), `redis` on a Redis Cluster
 * (test/integration/rate-limiting-redis-cluster.test.ts). The keys of one call share a
 * `{hash tag}` on a cluster, as the handler's do: callers prefix them accordingly.
 *
 * @example
 *   storeContract('local', () => new LocalStore());
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { CounterWindow, RateLimitStore } from '../../src/plugins/bundled/rate-limiting/store.ts';

/**
 * The contract every rate-limiting store (policy) meets. `create` may skip (answer undefined)
 * when what the store needs is missing outside CI.
 */
export function storeContract(name: string, create: (t: TestContext) => RateLimitStore | undefined | Promise<RateLimitStore | undefined>): void {
  describe(`rate-limiting store contract: ${name}`, () => {
    const minute = (start: number, previous = false): CounterWindow => ({
      start,
      keepUntil: start + (previous ? 120_000 : 60_000),
      ...(previous ? { previousStart: start - 60_000 } : {}),
    });

    it('counts per key and window, all keys of one call together', async (t) => {
      const store = await create(t);
      if (!store) return;
      const w = minute(60_000);
      assert.deepEqual(await store.increment(['a', 'b'], [w, w], 60_001), [
        { current: 1, previous: 0 },
        { current: 1, previous: 0 },
      ]);
      assert.deepEqual(await store.increment(['a'], [w], 60_002), [{ current: 2, previous: 0 }]);
      assert.deepEqual(await store.increment(['a'], [minute(120_000)], 120_000), [{ current: 1, previous: 0 }]);
    });

    it('takes a count back without going below zero', async (t) => {
      const store = await create(t);
      if (!store) return;
      const w = minute(0);
      await store.increment(['k'], [w], 1);
      assert.deepEqual(await store.increment(['k'], [w], 2, -1), [{ current: 0, previous: 0 }]);
      assert.deepEqual(await store.increment(['k'], [w], 3, -1), [{ current: 0, previous: 0 }]);
    });

    it("answers the previous window's count when asked, until it expires", async (t) => {
      const store = await create(t);
      if (!store) return;
      for (let i = 0; i < 4; i++) await store.increment(['k'], [minute(0, true)], 10);
      assert.deepEqual(await store.increment(['k'], [minute(60_000, true)], 61_000), [{ current: 1, previous: 4 }]);
      assert.deepEqual(await store.increment(['k'], [minute(180_000, true)], 181_000), [{ current: 1, previous: 0 }]);
    });

    it('forgets a counter once its keepUntil has passed', async (t) => {
      const store = await create(t);
      if (!store) return;
      const w = minute(0);
      await store.increment(['k'], [w], 1);
      assert.deepEqual(await store.increment(['k'], [w], 60_000), [{ current: 1, previous: 0 }]);
    });

    it('N concurrent increments see N distinct values', async (t) => {
      const store = await create(t);
      if (!store) return;
      const w = minute(0);
      const seen = await Promise.all(Array.from({ length: 50 }, () => store.increment(['k'], [w], 5)));
      assert.deepEqual(seen.map((c) => c[0]!.current).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });
}
