import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { CompileEnv } from '../../src/plugins/contract.ts';
import { clock } from '../../src/plugins/bundled/rate-limiting/clock.ts';
import { access, compile, shutdown, type Compiled } from '../../src/plugins/bundled/rate-limiting/handler.ts';
import { redisConnectionOf } from '../../src/plugins/bundled/rate-limiting/redis-config.ts';
import { schema, type Config } from '../../src/plugins/bundled/rate-limiting/schema.ts';
import { LocalStore, type RateLimitStore } from '../../src/plugins/bundled/rate-limiting/store.ts';
import { windowAt } from '../../src/plugins/bundled/rate-limiting/windows.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';
import { keySlot } from '../../src/redis/slot.ts';

const realNow = clock.now;
let now = 0;
beforeEach(() => {
  clock.now = () => now;
});
after(() => {
  clock.now = realNow;
});

let instances = 0;
/** Compiles with the schema's defaults applied, under a fresh instance id (fresh counters). */
function build(config: Partial<Config>): Compiled {
  const full = Value.Default(schema, structuredClone(config)) as Config;
  return compile(full, { instance: { id: `test-${++instances}` } } as unknown as CompileEnv);
}

interface Seen {
  status?: number;
  message?: string;
  headers: Record<string, string>;
  errors: string[];
}

interface Client {
  ip?: string;
  consumer?: string;
  credential?: string;
  service?: string;
  headers?: Record<string, string>;
  path?: string;
}

function fakePdk(client: Client = {}): { kong: Pdk; seen: Seen } {
  const seen: Seen = { headers: {}, errors: [] };
  const kong = {
    client: {
      getForwardedIp: () => client.ip ?? '10.0.0.1',
      getIp: () => client.ip ?? '10.0.0.1',
      getConsumer: () => (client.consumer ? { id: client.consumer, tags: [] } : undefined),
      getCredential: () => (client.credential ? { id: client.credential, consumer: client.consumer ?? '' } : undefined),
    },
    router: { getService: () => (client.service ? { id: client.service } : undefined) },
    request: { getHeader: (name: string) => client.headers?.[name.toLowerCase()], getPath: () => client.path ?? '/' },
    response: {
      setHeader(name: string, value: string) {
        seen.headers[name] = value;
      },
      error(status: number, message?: string, headers?: Record<string, string>) {
        seen.status = status;
        seen.message = message;
        Object.assign(seen.headers, headers);
      },
    },
    log: { error: (m: string) => seen.errors.push(m) },
  } as unknown as Pdk;
  return { kong, seen };
}

async function hit(conf: Compiled, client?: Client): Promise<Seen> {
  const { kong, seen } = fakePdk(client);
  await access(kong, conf);
  return seen;
}

describe('rate-limiting config checks (Kong messages)', () => {
  it('needs a limit, ordered windows, header_name/path for their limit_by', () => {
    assert.throws(() => build({}), /at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'/);
    assert.throws(() => build({ second: 10, hour: 5 }), { message: 'The limit for hour(5.0) cannot be lower than the limit for second(10.0)' });
    assert.throws(() => build({ minute: 1, limit_by: 'header' }), /config.header_name: required field missing/);
    assert.throws(() => build({ minute: 1, limit_by: 'path' }), /config.path: required field missing/);
    assert.throws(() => build({ minute: 1, policy: 'cluster' }), /DB-less/);
    assert.throws(() => build({ minute: 1, policy: 'redis' }), /config.redis.host: required field missing \(policy is 'redis'; or set config.redis.cluster_nodes for a Redis Cluster\)/);
  });
});

describe('rate-limiting redis connection (Kong fields)', () => {
  const redis = (fields: Record<string, unknown>) => Value.Default(schema, { minute: 1, policy: 'redis', redis: fields }) as Config;

  it('cluster_nodes select a Redis Cluster: seeds as given, cluster_max_redirections (default 5), credentials and ssl for every node', () => {
    const c = redisConnectionOf(redis({ cluster_nodes: [{ ip: '10.0.0.1', port: 7000 }, { ip: 'cache-2' }], username: 'app', password: 'pw', ssl: true }));
    assert.deepEqual(c.clusterNodes, [{ host: '10.0.0.1', port: 7000 }, { host: 'cache-2', port: 6379 }]);
    assert.equal(c.clusterMaxRedirections, 5);
    assert.deepEqual([c.username, c.password, c.ssl], ['app', 'pw', true]);
    assert.equal(redisConnectionOf(redis({ cluster_nodes: [{ ip: 'a', port: 1 }], cluster_max_redirections: 2 })).clusterMaxRedirections, 2);
    // A decK dump writes unset fields as null: one Redis then.
    assert.equal(redisConnectionOf(redis({ host: 'cache', cluster_nodes: null })).clusterNodes, undefined);
    assert.doesNotThrow(() => compile(redis({ cluster_nodes: [{ ip: '127.0.0.1', port: 1 }] })));
  });

  it("keys one request's counters under one hash tag (one Redis Cluster slot), whatever braces the identifier holds", async () => {
    const seenKeys: string[][] = [];
    const recording: RateLimitStore = {
      increment: (keys, windows, at, by) => (seenKeys.push([...keys]), new LocalStore().increment(keys, windows, at, by)),
    };
    const conf: Compiled = { ...build({ second: 5, minute: 10, hour: 100, limit_by: 'header', header_name: 'x-user' }), store: recording, local: undefined };
    for (const user of ['alice', 'a}b{c', '{x}', '}']) await hit(conf, { headers: { 'x-user': user } });
    for (const keys of seenKeys) {
      assert.equal(keys.length, 3);
      assert.match(keys[0] ?? '', /^ratelimit:\{test-\d+:.*\}:second$/);
      assert.equal(new Set(keys.map((k) => keySlot(`${k}|0`))).size, 1, keys.join(' '));
    }
    assert.notEqual(keySlot(`${seenKeys[0]?.[0]}`), keySlot(`${seenKeys[2]?.[0]}`), 'different identifiers, different tags');
  });
});

describe('rate-limiting fixed windows', () => {
  it("counts per minute with Kong's headers, refuses with 429 + Retry-After, resets at the next minute", async () => {
    const conf = build({ minute: 3 });
    now = Date.UTC(2026, 0, 1, 12, 0, 15, 500);
    for (const remaining of ['2', '1', '0']) {
      const seen = await hit(conf);
      assert.equal(seen.status, undefined);
      assert.deepEqual(seen.headers, {
        'X-RateLimit-Limit-Minute': '3',
        'X-RateLimit-Remaining-Minute': remaining,
        'RateLimit-Limit': '3',
        'RateLimit-Remaining': remaining,
        'RateLimit-Reset': '45',
      });
    }
    const refused = await hit(conf);
    assert.equal(refused.status, 429);
    assert.equal(refused.message, 'API rate limit exceeded');
    assert.equal(refused.headers['Retry-After'], '45');
    assert.equal(refused.headers['X-RateLimit-Remaining-Minute'], '0');
    now = Date.UTC(2026, 0, 1, 12, 0, 59, 999);
    assert.equal((await hit(conf)).headers['RateLimit-Reset'], '1');
    now = Date.UTC(2026, 0, 1, 12, 1, 0, 0);
    const fresh = await hit(conf);
    assert.equal(fresh.status, undefined);
    assert.equal(fresh.headers['X-RateLimit-Remaining-Minute'], '2');
    assert.equal(fresh.headers['RateLimit-Reset'], '60');
  });

  it('enforces every window; RateLimit-* follow the most constrained one; refused requests are not counted', async () => {
    const conf = build({ second: 2, minute: 3, error_code: 503, error_message: 'slow down' });
    now = Date.UTC(2026, 0, 1, 0, 0, 0, 100);
    await hit(conf);
    const second = await hit(conf);
    assert.equal(second.headers['X-RateLimit-Remaining-Second'], '0');
    assert.equal(second.headers['X-RateLimit-Remaining-Minute'], '1');
    assert.equal(second.headers['RateLimit-Limit'], '2');
    assert.equal(second.headers['RateLimit-Reset'], '1');
    const refused = await hit(conf);
    assert.deepEqual([refused.status, refused.message], [503, 'slow down']);
    // Not counted: the minute window still has one left.
    assert.equal(refused.headers['X-RateLimit-Remaining-Minute'], '1');
    now += 1000;
    const third = await hit(conf);
    assert.equal(third.status, undefined);
    assert.equal(third.headers['X-RateLimit-Remaining-Minute'], '0');
    // Both at 0 remaining: the tie goes to the longer window.
    assert.equal(third.headers['RateLimit-Limit'], '3');
    assert.equal(third.headers['RateLimit-Reset'], '59');
    const fourth = await hit(conf);
    assert.equal(fourth.status, 503);
    assert.equal(fourth.headers['Retry-After'], '59');
  });

  it('local counters outlive a recompile of the same instance (a reload), not a change of instance', async () => {
    const config = Value.Default(schema, { minute: 10, hour: 100 }) as Config;
    const env = (id: string) => ({ instance: { id } }) as unknown as CompileEnv;
    now = Date.UTC(2026, 0, 1, 0, 0, 30);
    await hit(compile(config, env('reloaded')));
    await hit(compile(config, env('reloaded')));
    const again = await hit(compile(structuredClone(config), env('reloaded')));
    assert.equal(again.headers['X-RateLimit-Remaining-Minute'], '7');
    assert.equal(again.headers['X-RateLimit-Remaining-Hour'], '97');
    assert.equal((await hit(compile(config, env('another')))).headers['X-RateLimit-Remaining-Minute'], '9');
    // A reload that adds a period counts it from there on; the others keep counting.
    const withSecond = await hit(compile({ ...config, second: 5 }, env('reloaded')));
    assert.deepEqual([withSecond.headers['X-RateLimit-Remaining-Second'], withSecond.headers['X-RateLimit-Remaining-Minute']], ['4', '6']);
  });

  it('hide_client_headers sends no header, not even Retry-After', async () => {
    const conf = build({ second: 1, hide_client_headers: true });
    now = 5_000;
    assert.deepEqual((await hit(conf)).headers, {});
    const refused = await hit(conf);
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.headers, {});
  });

  it('calendar windows: months and years have their real lengths (UTC)', () => {
    assert.deepEqual(windowAt('month', Date.UTC(2024, 1, 29, 23)), { start: Date.UTC(2024, 1, 1), end: Date.UTC(2024, 2, 1) });
    assert.deepEqual(windowAt('month', Date.UTC(2025, 11, 31)), { start: Date.UTC(2025, 11, 1), end: Date.UTC(2026, 0, 1) });
    assert.deepEqual(windowAt('year', Date.UTC(2024, 6, 1)), { start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) });
    assert.deepEqual(windowAt('day', Date.UTC(2024, 6, 1, 13)), { start: Date.UTC(2024, 6, 1), end: Date.UTC(2024, 6, 2) });
  });

  it('month window rolls over on the 1st', async () => {
    const conf = build({ month: 1 });
    now = Date.UTC(2026, 0, 31, 23, 59, 59);
    await hit(conf);
    assert.equal((await hit(conf)).status, 429);
    now = Date.UTC(2026, 1, 1);
    assert.equal((await hit(conf)).status, undefined);
  });
});

describe('rate-limiting identifiers (limit_by)', () => {
  it('consumer, falling back to credential then client IP', async () => {
    const conf = build({ minute: 1 });
    now = 0;
    assert.equal((await hit(conf, { consumer: 'c1' })).status, undefined);
    assert.equal((await hit(conf, { consumer: 'c1' })).status, 429);
    assert.equal((await hit(conf, { consumer: 'c2' })).status, undefined);
    assert.equal((await hit(conf, { credential: 'k1' })).status, undefined);
    assert.equal((await hit(conf, { credential: 'k1' })).status, 429);
    assert.equal((await hit(conf, { ip: '1.1.1.1' })).status, undefined);
    assert.equal((await hit(conf, { ip: '1.1.1.1' })).status, 429);
    assert.equal((await hit(conf, { ip: '2.2.2.2' })).status, undefined);
  });

  it('header, path (exact path only, else IP) and service', async () => {
    now = 0;
    const byHeader = build({ minute: 1, limit_by: 'header', header_name: 'X-Tenant' });
    assert.equal((await hit(byHeader, { headers: { 'x-tenant': 'a' } })).status, undefined);
    assert.equal((await hit(byHeader, { headers: { 'x-tenant': 'a' }, ip: '9.9.9.9' })).status, 429);
    assert.equal((await hit(byHeader, { headers: { 'x-tenant': 'b' } })).status, undefined);

    const byPath = build({ minute: 1, limit_by: 'path', path: '/orders' });
    assert.equal((await hit(byPath, { path: '/orders', ip: '1.1.1.1' })).status, undefined);
    assert.equal((await hit(byPath, { path: '/orders', ip: '2.2.2.2' })).status, 429);
    assert.equal((await hit(byPath, { path: '/other', ip: '3.3.3.3' })).status, undefined);

    const byService = build({ minute: 1, limit_by: 'service' });
    assert.equal((await hit(byService, { service: 's1', ip: '1.1.1.1' })).status, undefined);
    assert.equal((await hit(byService, { service: 's1', ip: '2.2.2.2' })).status, 429);
  });
});

describe('rate-limiting sliding windows', () => {
  it("weighs the previous window's count by how much of it still overlaps", async () => {
    const conf = build({ minute: 10, window_type: 'sliding' });
    now = Date.UTC(2026, 0, 1, 0, 0, 10);
    for (let i = 0; i < 10; i++) assert.equal((await hit(conf)).status, undefined);
    assert.equal((await hit(conf)).status, 429);
    // 30 s into the next minute: half of the previous 10 still counts, so 5 more fit.
    now = Date.UTC(2026, 0, 1, 0, 1, 30);
    for (let i = 0; i < 5; i++) assert.equal((await hit(conf)).status, undefined, `request ${i}`);
    const refused = await hit(conf);
    assert.equal(refused.status, 429);
    // 45 s in: a quarter (2.5) of the previous minute plus the 5 counted.
    now = Date.UTC(2026, 0, 1, 0, 1, 45);
    const later = await hit(conf);
    assert.equal(later.status, undefined);
    assert.equal(later.headers['X-RateLimit-Remaining-Minute'], '1');
    // Two windows later, the old count is gone entirely.
    now = Date.UTC(2026, 0, 1, 0, 3, 0);
    assert.equal((await hit(conf)).headers['X-RateLimit-Remaining-Minute'], '9');
  });
});

describe('rate-limiting policies', () => {
  after(() => shutdown());
  it('redis unreachable with fault_tolerant: proxies and logs', async () => {
    const conf = build({ minute: 1, policy: 'redis', redis: { host: '127.0.0.1', port: 1, timeout: 500 } as Config['redis'] });
    const seen = await hit(conf);
    const again = await hit(conf);
    assert.equal(seen.status, undefined);
    assert.equal(again.status, undefined);
    assert.match(seen.errors[0] ?? '', /failed to get usage: redis 127\.0\.0\.1:1 (is not reachable|did not answer)/);
  });

  it('a failing store with fault_tolerant false fails the request', async () => {
    const failing: RateLimitStore = { increment: () => Promise.reject(new Error('down')) };
    const conf: Compiled = { ...build({ minute: 1, fault_tolerant: false }), store: failing, local: undefined };
    await assert.rejects(async () => hit(conf), /down/);
  });

  it('exactly `limit` of N concurrent requests pass through an asynchronous store', async () => {
    const local = new LocalStore();
    // A store that answers later, as a network store would; the counting itself stays atomic.
    const slow: RateLimitStore = {
      increment: (keys, windows, at, by) =>
        new Promise((resolve) => {
          const counts = local.incrementSync(keys, windows, at, by);
          setImmediate(() => resolve(counts));
        }),
    };
    const conf: Compiled = { ...build({ second: 7, minute: 100 }), store: slow, local: undefined };
    now = 1_000;
    const results = await Promise.all(Array.from({ length: 40 }, () => hit(conf)));
    assert.equal(results.filter((r) => r.status === undefined).length, 7);
    assert.equal(results.filter((r) => r.status === 429).length, 33);
    // Refused ones were taken back: the minute window holds only the 7.
    now = 2_000;
    assert.equal((await hit(conf)).headers['X-RateLimit-Remaining-Minute'], '92');
  });
});
