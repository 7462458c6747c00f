import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it, type TestContext } from 'node:test';
import { storeContract } from '../conformance/rate-limit-store-contract.ts';
import { BatchedStore } from '../../src/plugins/bundled/rate-limiting/batched-store.ts';
import { RedisStore } from '../../src/plugins/bundled/rate-limiting/redis-store.ts';
import { LocalStore, type CounterWindow, type RateLimitStore } from '../../src/plugins/bundled/rate-limiting/store.ts';
import { requireRedisConnection } from '../helpers/redis.ts';

storeContract('local', () => new LocalStore());

/** Every contract test gets its own key space in the shared Redis. */
function prefixed(store: RateLimitStore): RateLimitStore {
  const prefix = `sluice-test:${randomUUID()}:`;
  return { increment: (keys, windows, now, by) => store.increment(keys.map((k) => prefix + k), windows, now, by) };
}

const redisStores: RedisStore[] = [];
after(() => Promise.all(redisStores.map((s) => s.close())));

async function redisStore(t: TestContext): Promise<RedisStore | undefined> {
  const target = await requireRedisConnection(t);
  if (target === undefined) return undefined;
  const store = new RedisStore(target);
  redisStores.push(store);
  return store;
}

storeContract('redis', async (t) => {
  const store = await redisStore(t);
  return store && prefixed(store);
});

describe('rate-limiting redis store', () => {
  it('shares counters between nodes (two connections, one Redis)', async (t) => {
    const [a, b] = [await redisStore(t), await redisStore(t)];
    if (!a || !b) return;
    const key = `sluice-test:${randomUUID()}`;
    const w: CounterWindow = { start: 0, keepUntil: 60_000 };
    assert.equal((await a.increment([key], [w], 1))[0]?.current, 1);
    assert.equal((await b.increment([key], [w], 2))[0]?.current, 2);
    assert.equal((await a.increment([key], [w], 3))[0]?.current, 3);
  });

  it('fails fast (for fault_tolerant to decide) when nothing answers', async () => {
    const store = new RedisStore({ host: '127.0.0.1', port: 1, database: 0, timeout: 500 });
    redisStores.push(store);
    await assert.rejects(store.increment(['k'], [{ start: 0, keepUntil: 60_000 }], 1), /redis 127\.0\.0\.1:1 (is not reachable|did not answer)/);
  });
});

describe('rate-limiting batched redis store (sync_rate)', () => {
  it('counts locally, then every node sees the sum after a sync', async (t) => {
    const [ra, rb] = [await redisStore(t), await redisStore(t)];
    if (!ra || !rb) return;
    // Two nodes, two connections, one key space.
    const prefix = `sluice-test:${randomUUID()}:`;
    const via = (store: RedisStore): RateLimitStore => ({ increment: (k, w, n, by) => store.increment(k.map((x) => prefix + x), w, n, by) });
    const now = () => 10;
    const a = new BatchedStore(via(ra), 60_000, undefined, now);
    const b = new BatchedStore(via(rb), 60_000, undefined, now);
    t.after(() => (a.stop(), b.stop()));
    const w: CounterWindow = { start: 0, keepUntil: 60_000 };
    for (let i = 0; i < 3; i++) await a.increment(['k'], [w], 10);
    assert.equal((await b.increment(['k'], [w], 10))[0]?.current, 1, 'no round trip per request: b only knows its own count');
    await a.sync();
    await b.sync();
    assert.equal((await b.increment(['k'], [w], 10))[0]?.current, 5);
    await b.sync();
    await a.sync();
    assert.equal((await a.increment(['k'], [w], 10))[0]?.current, 6);
  });

  it('keeps what it counted when a sync fails, and sends it with the next one', async () => {
    let up = false;
    const sent: number[] = [];
    const central: RateLimitStore = {
      increment: (_k, _w, _n, by = 1) => (up ? (sent.push(by), Promise.resolve([{ current: by, previous: 0 }])) : Promise.reject(new Error('down'))),
    };
    const errors: string[] = [];
    const store = new BatchedStore(central, 60_000, (m) => errors.push(m), () => 1);
    const w: CounterWindow = { start: 0, keepUntil: 60_000 };
    await store.increment(['k'], [w], 1);
    await store.increment(['k'], [w], 1);
    await store.sync();
    assert.match(errors[0] ?? '', /sync failed for 1 counter\(s\): down/);
    up = true;
    await store.sync();
    store.stop();
    assert.deepEqual(sent, [2]);
  });
});

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

describe('LocalStore.incrementFor (the handler’s counters: by instance scope and identifier)', () => {
  const minute = (start: number, sliding = false): CounterWindow => ({ start, keepUntil: start + (sliding ? 120_000 : 60_000), ...(sliding ? { previousStart: start - 60_000 } : {}) });
  const counts = () => ({ current: [] as number[], previous: [] as number[] });

  it('counts per scope, identifier and slot, all slots of one call together', () => {
    const store = new LocalStore();
    const out = counts();
    const windows = [{ start: 0, keepUntil: 1000 }, minute(0)];
    store.incrementFor('ratelimit:{i1:', 'alice', [0, 1], windows, 10, 1, out);
    store.incrementFor('ratelimit:{i1:', 'alice', [0, 1], windows, 20, 1, out);
    assert.deepEqual(out, { current: [2, 2], previous: [0, 0] });
    store.incrementFor('ratelimit:{i1:', 'bob', [0, 1], windows, 30, 1, out);
    assert.deepEqual(out.current, [1, 1], 'another identifier, other counters');
    store.incrementFor('ratelimit:{i2:', 'alice', [0, 1], windows, 40, 1, out);
    assert.deepEqual(out.current, [1, 1], 'another instance, other counters');
    store.incrementFor('ratelimit:{i1:', 'alice', [1], [minute(0)], 50, 1, out);
    assert.deepEqual(out.current.slice(0, 1), [3], 'a slot by itself is the same counter');
    assert.equal(store.size, 6);
    assert.equal(store.scopes, 2);
  });

  it('shares no counters with `increment` keys', () => {
    const store = new LocalStore();
    const out = counts();
    store.incrementSync(['alice'], [minute(0)], 1);
    store.incrementFor('', 'alice', [0], [minute(0)], 2, 1, out);
    assert.deepEqual(out.current, [1]);
  });

  it("takes counts back without going below zero, and leaves nothing behind for what isn't counted", () => {
    const store = new LocalStore();
    const out = counts();
    store.incrementFor('s', 'k', [1], [minute(0)], 1, 1, out);
    store.incrementFor('s', 'k', [1], [minute(0)], 2, -1, out);
    store.incrementFor('s', 'k', [1], [minute(0)], 3, -1, out);
    assert.deepEqual(out.current, [0]);
    store.incrementFor('s', 'other', [1], [minute(0)], 4, -1, out);
    store.incrementFor('t', 'other', [1], [minute(0)], 4, -1, out);
    assert.deepEqual(out.current, [0]);
    assert.equal(store.size, 1);
    assert.equal(store.scopes, 1);
  });

  it("sliding windows: the previous window's count until it expires; a new window of one slot keeps the others", () => {
    const store = new LocalStore();
    const out = counts();
    const hour = { start: 0, keepUntil: 3_600_000 };
    for (let i = 0; i < 3; i++) store.incrementFor('s', 'k', [1, 2], [minute(0, true), hour], 10, 1, out);
    store.incrementFor('s', 'k', [1, 2], [minute(60_000, true), hour], 61_000, 1, out);
    assert.deepEqual(out, { current: [1, 4], previous: [3, 0] });
    store.incrementFor('s', 'k', [1, 2], [minute(180_000, true), hour], 181_000, 1, out);
    assert.deepEqual(out, { current: [1, 5], previous: [0, 0] });
  });

  it('an expired counter is replaced, also when it was the last of its identifier and scope', () => {
    const store = new LocalStore();
    const out = counts();
    // (Counted at 950, the next sweep is not before 1050: the expired counter is still there at 1000.)
    store.incrementFor('s', 'k', [0], [{ start: 0, keepUntil: 1000 }], 950, 1, out);
    // The same window once its counter expired, now kept longer (the instance became sliding):
    // a fresh counter, not 2.
    const kept: CounterWindow = { start: 0, keepUntil: 5000 };
    store.incrementFor('s', 'k', [0], [kept], 1_000, 1, out);
    assert.deepEqual(out.current, [1]);
    store.incrementFor('s', 'k', [0], [kept], 1_001, 1, out);
    assert.deepEqual(out.current, [2], 'the new counter is kept');
    assert.equal(store.size, 1);
    assert.equal(store.scopes, 1);
  });

  it('expired counters, their identifiers and scopes are dropped as time passes; the bound evicts the oldest', () => {
    const store = new LocalStore(100);
    const out = counts();
    const second = { start: 0, keepUntil: 1000 };
    for (let i = 0; i < 250; i++) store.incrementFor(`s${i % 3}`, `ip-${i}`, [0], [second], 1, 1, out);
    assert.equal(store.size, 100);
    store.incrementFor('s0', 'ip-249', [0], [second], 2, 1, out);
    assert.deepEqual(out.current, [2], 'the newest survived (ip-249 is in scope s0)');
    store.incrementFor('s0', 'ip-0', [0], [second], 3, 1, out);
    assert.deepEqual(out.current, [1], 'the oldest was evicted');
    assert.equal(store.scopes, 3);
    store.incrementFor('late', 'x', [0], [{ start: 1000, keepUntil: 2000 }], 1500, 1, out);
    assert.equal(store.size, 1);
    assert.equal(store.scopes, 1, 'instances without counters are forgotten');
  });
});
