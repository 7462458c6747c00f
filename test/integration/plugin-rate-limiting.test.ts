import { randomUUID } from 'node:crypto';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startGateway, useEchoGateway, type ErrorBody } from '../helpers/gateway.ts';
import { clock } from '../../src/plugins/bundled/rate-limiting/clock.ts';
import { shutdown } from '../../src/plugins/bundled/rate-limiting/handler.ts';
import { requireRedisConnection } from '../helpers/redis.ts';
import { startEchoServer } from '../helpers/servers.ts';

/** rate-limiting through real sockets, with the plugin's clock frozen and stepped by the test. */

const config = (upstream: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: minute
        paths: [/minute]
        plugins: [{ name: rate-limiting, config: { minute: 3 } }]
      - name: two-windows
        paths: [/two-windows]
        plugins: [{ name: rate-limiting, config: { second: 1, hour: 2 } }]
      - name: per-consumer
        paths: [/per-consumer]
        plugins:
          - { name: key-auth }
          - { name: rate-limiting, config: { minute: 1, limit_by: consumer } }
      - name: hidden
        paths: [/hidden]
        plugins: [{ name: rate-limiting, config: { minute: 1, hide_client_headers: true, error_code: 503, error_message: Too busy } }]
      - name: concurrent
        paths: [/concurrent]
        plugins: [{ name: rate-limiting, config: { minute: 10 } }]
      - name: redis-down
        paths: [/redis-down]
        plugins: [{ name: rate-limiting, config: { minute: 1, policy: redis, redis: { host: 127.0.0.1, port: 1 } } }]
      - name: redis-down-strict
        paths: [/redis-down-strict]
        plugins: [{ name: rate-limiting, config: { minute: 1, policy: redis, fault_tolerant: false, redis: { host: 127.0.0.1, port: 1 } } }]
      - name: sliding
        paths: [/sliding]
        plugins: [{ name: rate-limiting, config: { minute: 4, window_type: sliding } }]
`;

describe('rate-limiting plugin', () => {
  const realNow = clock.now;
  let now = 0;

  const ctx = useEchoGateway(config);
  beforeEach(() => {
    clock.now = () => now;
  });
  afterEach(() => {
    clock.now = realNow;
  });

  async function get(path: string, headers: Record<string, string> = {}) {
    const res = await request(`${ctx.gw.proxyUrl}${path}`, { headers });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  test("three per minute: Kong's headers on the upstream's answers, then 429 with Retry-After; the next minute resets", async () => {
    now = Date.UTC(2026, 5, 1, 10, 20, 30, 250);
    for (const remaining of ['2', '1', '0']) {
      const res = await get('/minute');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-ratelimit-limit-minute'], '3');
      assert.equal(res.headers['x-ratelimit-remaining-minute'], remaining);
      assert.equal(res.headers['ratelimit-limit'], '3');
      assert.equal(res.headers['ratelimit-remaining'], remaining);
      assert.equal(res.headers['ratelimit-reset'], '30');
      assert.equal(res.headers['retry-after'], undefined);
    }
    const refused = await get('/minute');
    assert.equal(refused.status, 429);
    const body = JSON.parse(refused.text) as ErrorBody;
    assert.equal(body.message, 'API rate limit exceeded');
    assert.equal(typeof body.request_id, 'string');
    assert.equal(refused.headers['retry-after'], '30');
    assert.equal(refused.headers['x-ratelimit-remaining-minute'], '0');
    now = Date.UTC(2026, 5, 1, 10, 21, 0, 0);
    const next = await get('/minute');
    assert.equal(next.status, 200);
    assert.equal(next.headers['x-ratelimit-remaining-minute'], '2');
    assert.equal(next.headers['ratelimit-reset'], '60');
  });

  test('every window is enforced; the most constrained one drives RateLimit-*', async () => {
    now = Date.UTC(2026, 5, 1, 11, 0, 0, 0);
    const first = await get('/two-windows');
    assert.equal(first.headers['x-ratelimit-remaining-second'], '0');
    assert.equal(first.headers['x-ratelimit-remaining-hour'], '1');
    assert.equal(first.headers['ratelimit-limit'], '1');
    assert.equal(first.headers['ratelimit-reset'], '1');
    assert.equal((await get('/two-windows')).status, 429);
    now += 1000;
    const second = await get('/two-windows');
    assert.equal(second.status, 200);
    assert.equal(second.headers['ratelimit-limit'], '2');
    assert.equal(second.headers['ratelimit-reset'], '3599');
    now += 1000;
    const third = await get('/two-windows');
    assert.equal(third.status, 429);
    assert.equal(third.headers['retry-after'], '3598');
  });

  test('limit_by consumer: each key-auth consumer has its own counter', async () => {
    now = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
    assert.equal((await get('/per-consumer', { apikey: 'alice-key' })).status, 200);
    assert.equal((await get('/per-consumer', { apikey: 'alice-key' })).status, 429);
    assert.equal((await get('/per-consumer', { apikey: 'bob-key' })).status, 200);
    // Unauthenticated requests stop at key-auth first.
    assert.equal((await get('/per-consumer')).status, 401);
  });

  test('hide_client_headers, custom error code and message', async () => {
    now = Date.UTC(2026, 5, 1, 13, 0, 0, 0);
    const ok = await get('/hidden');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-ratelimit-limit-minute'], undefined);
    assert.equal(ok.headers['ratelimit-remaining'], undefined);
    const refused = await get('/hidden');
    assert.equal(refused.status, 503);
    assert.equal((JSON.parse(refused.text) as ErrorBody).message, 'Too busy');
    assert.equal(refused.headers['retry-after'], undefined);
  });

  test('40 concurrent requests on 40 connections against a limit of 10: exactly 10 pass', async () => {
    now = Date.UTC(2026, 5, 1, 14, 0, 30, 0);
    const agent = new Agent({ connections: 40 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 40 }, async () => {
          const res = await request(`${ctx.gw.proxyUrl}/concurrent`, { dispatcher: agent });
          await res.body.dump();
          return res.statusCode;
        }),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 10);
      assert.equal(statuses.filter((s) => s === 429).length, 30);
    } finally {
      await agent.close();
    }
  });

  test('policy redis with Redis down: fault_tolerant (the default) proxies without limiting; false answers 500', async () => {
    now = Date.UTC(2026, 5, 1, 15, 0, 0, 0);
    assert.equal((await get('/redis-down')).status, 200);
    assert.equal((await get('/redis-down')).status, 200);
    const strict = await get('/redis-down-strict');
    assert.equal(strict.status, 500);
    assert.equal((JSON.parse(strict.text) as ErrorBody).message, 'An unexpected error occurred');
  });

  test('sliding window: half of the previous minute still counts 30 s later', async () => {
    now = Date.UTC(2026, 5, 1, 16, 0, 50, 0);
    for (let i = 0; i < 4; i++) assert.equal((await get('/sliding')).status, 200);
    assert.equal((await get('/sliding')).status, 429);
    now = Date.UTC(2026, 5, 1, 16, 1, 30, 0);
    assert.equal((await get('/sliding')).status, 200);
    assert.equal((await get('/sliding')).status, 200);
    assert.equal((await get('/sliding')).status, 429);
  });
});

describe('rate-limiting config errors', () => {
  const bad = (config: string) => `
_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    routes: [{ paths: [/], plugins: [{ name: rate-limiting, config: ${config} }] }]
`;

  test("Kong's entity checks refuse the config", async () => {
    await assert.rejects(startGateway(bad('{}')), /at least one of these fields must be non-empty/);
    await assert.rejects(startGateway(bad('{ minute: 10, hour: 5 }')), /The limit for hour\(5\.0\) cannot be lower than the limit for minute\(10\.0\)/);
    await assert.rejects(startGateway(bad('{ minute: 1, policy: redis }')), /config.redis.host: required field missing/);
    await assert.rejects(startGateway(bad('{ minute: 1, window_type: rolling }')), /window_type/);
  });

  test('redis.cluster_nodes: empty, a bad port or an empty ip is refused with its path', async () => {
    const cluster = (fields: string) => bad(`{ minute: 1, policy: redis, redis: { ${fields} } }`);
    await assert.rejects(startGateway(cluster('cluster_nodes: []')), /config\.redis\.cluster_nodes \(plugin "rate-limiting"\): expected array length to be greater or equal to 1/);
    await assert.rejects(startGateway(cluster('cluster_nodes: [{ ip: 10.0.0.1, port: 70000 }]')), /config\.redis\.cluster_nodes\[0\]\.port \(plugin "rate-limiting"\): expected integer to be less or equal to 65535, got 70000/);
    await assert.rejects(startGateway(cluster('cluster_nodes: [{ ip: 10.0.0.1, port: 0 }]')), /cluster_nodes\[0\]\.port .*greater or equal to 1, got 0/);
    await assert.rejects(startGateway(cluster('cluster_nodes: [{ ip: 10.0.0.1, port: seven }]')), /cluster_nodes\[0\]\.port .*expected integer, got "seven"/);
    await assert.rejects(startGateway(cluster('cluster_nodes: [{ ip: "", port: 7000 }]')), /cluster_nodes\[0\]\.ip .*got ""/);
    await assert.rejects(startGateway(cluster('cluster_nodes: [{ host: a, port: 7000 }]')), /cluster_nodes\[0\] \(plugin "rate-limiting"\): missing required field 'ip'/);
    await assert.rejects(startGateway(cluster('cluster_max_redirections: -1, cluster_nodes: [{ ip: a, port: 1 }]')), /config\.redis\.cluster_max_redirections .*got -1/);
  });
});

describe('rate-limiting policy redis: counters shared by two nodes', () => {
  after(() => shutdown());

  test('two gateways on one Redis let `minute` requests through in all, then both answer 429', async (t) => {
    const redis = await requireRedisConnection(t);
    if (!redis) return;
    const upstream = await startEchoServer();
    // A fresh counter space: the limit is per route id, and the route is new for this run.
    const name = `shared-${randomUUID()}`;
    const yaml = `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream.url}
    routes:
      - name: ${name}
        paths: [/shared]
        plugins: [{ name: rate-limiting, config: { minute: 4, limit_by: ip, policy: redis, redis: { host: ${redis.host}, port: ${redis.port}, database: ${redis.database} } } }]
`;
    const [a, b] = [await startGateway(yaml), await startGateway(yaml)];
    t.after(async () => {
      await a.gateway.stop();
      await b.gateway.stop();
      await upstream.close();
    });
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (const gw of [a, b, a, b, a, b]) {
      const res = await request(`${gw.proxyUrl}/shared`);
      await res.body.dump();
      statuses.push(res.statusCode);
      remaining.push(String(res.headers['x-ratelimit-remaining-minute']));
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
    assert.deepEqual(remaining, ['3', '2', '1', '0', '0', '0']);
  });
});
