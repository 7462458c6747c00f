/**
 * rate-limiting's `redis` policy on a Redis Cluster (three masters, started once for the file):
 * the store contract, two gateway nodes sharing counters through it, and Kong's
 * `fault_tolerant` while the cluster cannot be reached or stops answering.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { freePort } from '../../bench/lib/processes.ts';
import { BatchedStore } from '../../src/plugins/bundled/rate-limiting/batched-store.ts';
import { shutdown } from '../../src/plugins/bundled/rate-limiting/handler.ts';
import { RedisClusterStore } from '../../src/plugins/bundled/rate-limiting/redis-cluster-store.ts';
import type { RateLimitStore } from '../../src/plugins/bundled/rate-limiting/store.ts';
import { keySlot } from '../../src/redis/slot.ts';
import { storeContract } from '../conformance/rate-limit-store-contract.ts';
import { startGateway, type ErrorBody, type TestGateway } from '../helpers/gateway.ts';
import { redisClusterForSuite, type RedisCluster } from '../helpers/redis-cluster.ts';
import { startEchoServer } from '../helpers/servers.ts';

const HOST = '127.0.0.1';

/** Kong's `cluster_nodes` for these ports, as YAML flow. */
const nodesYaml = (ports: readonly number[]) => `[${ports.map((port) => `{ ip: ${HOST}, port: ${port} }`).join(', ')}]`;

/**
 * A gateway config with one route per `[path, plugin config]`, proxied to `upstream`. Counters
 * are per plugin instance, whose id follows from the route: nodes sharing counters share `run`.
 */
const routes = (upstream: string, entries: readonly (readonly [string, string])[], run = randomUUID()) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
${entries.map(([path, config], i) => `      - name: r-${run}-${i}
        paths: [${path}]
        plugins: [{ name: rate-limiting, config: ${config} }]`).join('\n')}
`;

async function get(gw: TestGateway, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${gw.proxyUrl}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, remaining: res.headers['x-ratelimit-remaining-minute'], text };
}

const cluster = await redisClusterForSuite('rate-limiting redis policy on a redis cluster');
if (cluster !== undefined) clusterSuite(cluster);

function clusterSuite(cluster: RedisCluster): void {
  const stores: RedisClusterStore[] = [];
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await shutdown();
    await cluster.stop();
  });
  const store = (timeout = 2000, seeds: readonly number[] = cluster.ports) => {
    const s = new RedisClusterStore({ host: '', port: 0, database: 0, timeout, clusterNodes: seeds.map((port) => ({ host: HOST, port })), clusterMaxRedirections: 5 });
    stores.push(s);
    return s;
  };

  // Each contract test has its own hash tag: the keys of one call share a slot, as the handler's do.
  storeContract('redis cluster', (_t: TestContext): RateLimitStore => {
    const s = store();
    const prefix = `sluice-test:{${randomUUID()}}:`;
    return { increment: (keys, windows, now, by) => s.increment(keys.map((k) => prefix + k), windows, now, by) };
  });

  describe('rate-limiting redis cluster store', () => {
    it('counts identifiers whose counters live on every master, one node seeing another\'s counts', async () => {
      const [a, b] = [store(), store(2000, [...cluster.ports].reverse())];
      const masters = await cluster.masters();
      // One identifier per master: the keys carry the handler's `{<instance>:<identifier>}` tag.
      const run = randomUUID();
      const byMaster = new Map<number, string>();
      for (let n = 0; byMaster.size < masters.length; n++) {
        const key = `ratelimit:{${run}:user-${n}}:minute`;
        const slot = keySlot(key);
        const owner = masters.find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
        if (owner !== undefined && !byMaster.has(owner.port)) byMaster.set(owner.port, key);
      }
      const w = { start: 0, keepUntil: 60_000 };
      for (const key of byMaster.values()) {
        const hour = key.replace(/:minute$/, ':hour');
        assert.deepEqual(await a.increment([key, hour], [w, w], 1), [{ current: 1, previous: 0 }, { current: 1, previous: 0 }]);
        assert.deepEqual(await b.increment([key, hour], [w, w], 2), [{ current: 2, previous: 0 }, { current: 2, previous: 0 }]);
      }
      assert.equal(byMaster.size, 3);
    });

    it('sync_rate: two nodes counting locally see the sum once both synced through the cluster', async (t) => {
      const tag = `ratelimit:{${randomUUID()}:u}:`;
      const via = (s: RedisClusterStore): RateLimitStore => ({ increment: (k, w, n, by) => s.increment(k.map((x) => tag + x), w, n, by) });
      const a = new BatchedStore(via(store()), 60_000, undefined, () => 10);
      const b = new BatchedStore(via(store()), 60_000, undefined, () => 10);
      t.after(() => (a.stop(), b.stop()));
      const w = { start: 0, keepUntil: 60_000 };
      for (let i = 0; i < 3; i++) await a.increment(['minute', 'hour'], [w, w], 10);
      assert.deepEqual((await b.increment(['minute', 'hour'], [w, w], 10)).map((c) => c.current), [1, 1], 'no round trip per request');
      await a.sync();
      await b.sync();
      assert.deepEqual((await b.increment(['minute', 'hour'], [w, w], 10)).map((c) => c.current), [5, 5]);
    });

    it('refuses, before sending, counters of one call that are in different slots', async () => {
      const w = { start: 0, keepUntil: 60_000 };
      await assert.rejects(
        store().increment(['ratelimit:{a}:minute', 'ratelimit:{b}:minute'], [w, w], 1),
        /counters "ratelimit:\{a\}:minute\|0" and "ratelimit:\{b\}:minute\|0" are in different slots; keys counted together need one \{hash tag\}/,
      );
    });

    it('fails fast (for fault_tolerant to decide) when no seed answers', async () => {
      const s = store(500, [await freePort(), await freePort()]);
      const w = { start: 0, keepUntil: 60_000 };
      const started = Date.now();
      await assert.rejects(s.increment(['{k}'], [w], 1), /redis cluster 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ (is not reachable|did not answer)/);
      // Known down: the next call does not wait for the seeds again.
      await assert.rejects(s.increment(['{k}'], [w], 1), /is not reachable/);
      assert.ok(Date.now() - started < 1500, `answered in ${Date.now() - started} ms`);
    });
  });

  describe('rate-limiting policy redis on a Redis Cluster: gateway nodes', () => {
    it('two gateways on one cluster let `minute` requests through in all, per user, then both answer 429', async (t) => {
      const upstream = await startEchoServer();
      // Two windows per request (one script, one slot); the nodes know the seeds in different orders.
      const run = randomUUID();
      const config = (ports: readonly number[]) => routes(upstream.url, [
        ['/shared', `{ minute: 4, hour: 100, limit_by: header, header_name: X-User, policy: redis, redis: { cluster_nodes: ${nodesYaml(ports)} } }`],
      ], run);
      const [a, b] = [await startGateway(config(cluster.ports)), await startGateway(config([...cluster.ports].reverse()))];
      t.after(async () => {
        await a.close();
        await b.close();
        await upstream.close();
      });
      for (const user of ['alice', 'bob']) {
        const seen: (number | string | string[] | undefined)[][] = [];
        for (const gw of [a, b, a, b, a, b]) {
          const res = await get(gw, '/shared', { 'X-User': user });
          seen.push([res.status, res.remaining]);
        }
        assert.deepEqual(seen, [[200, '3'], [200, '2'], [200, '1'], [200, '0'], [429, '0'], [429, '0']], user);
      }
    });

    it('cluster unreachable: fault_tolerant (the default) proxies without limiting; false answers 500', async (t) => {
      const upstream = await startEchoServer();
      const dead = nodesYaml([await freePort(), await freePort()]);
      const gw = await startGateway(routes(upstream.url, [
        ['/tolerant', `{ minute: 1, policy: redis, redis: { timeout: 500, cluster_nodes: ${dead} } }`],
        ['/strict', `{ minute: 1, policy: redis, fault_tolerant: false, redis: { timeout: 500, cluster_nodes: ${dead} } }`],
      ]));
      t.after(async () => {
        await gw.close();
        await upstream.close();
      });
      assert.deepEqual([(await get(gw, '/tolerant')).status, (await get(gw, '/tolerant')).status], [200, 200]);
      const strict = await get(gw, '/strict');
      assert.equal(strict.status, 500);
      assert.equal((JSON.parse(strict.text) as ErrorBody).message, 'An unexpected error occurred');
    });

    // Last: it stops the shared cluster for a while.
    it('cluster hung (every node SIGSTOPped): answers within redis.timeout (200 tolerant, 500 strict); resumed, limiting is back', async (t) => {
      const upstream = await startEchoServer();
      const nodes = nodesYaml(cluster.ports);
      const gw = await startGateway(routes(upstream.url, [
        ['/tolerant', `{ minute: 2, limit_by: header, header_name: X-User, policy: redis, redis: { timeout: 500, cluster_nodes: ${nodes} } }`],
        ['/strict', `{ minute: 2, limit_by: header, header_name: X-User, policy: redis, fault_tolerant: false, redis: { timeout: 500, cluster_nodes: ${nodes} } }`],
      ]));
      const resume = () => cluster.ports.forEach((port) => cluster.resume(port));
      t.after(async () => {
        resume();
        await gw.close();
        await upstream.close();
      });
      const user = { 'X-User': randomUUID() };
      assert.equal((await get(gw, '/tolerant', user)).status, 200);
      assert.equal((await get(gw, '/strict', user)).status, 200);

      cluster.ports.forEach((port) => cluster.pause(port));
      const started = Date.now();
      const tolerant = await get(gw, '/tolerant', user);
      const strict = await get(gw, '/strict', user);
      const took = Date.now() - started;
      assert.deepEqual([tolerant.status, tolerant.remaining], [200, undefined], 'proxied without limiting (no rate-limit headers)');
      assert.equal(strict.status, 500);
      assert.ok(took < 2500, `both answered in ${took} ms (two 500 ms timeouts)`);

      resume();
      // Back: limiting applies again. (A new user: the calls that timed out were still queued on
      // the stopped nodes and ran on SIGCONT, as any write Redis received before it hung.)
      const next = { 'X-User': randomUUID() };
      const deadline = Date.now() + 15_000;
      let back = await get(gw, '/strict', next);
      while (back.status === 500 && Date.now() < deadline) back = await get(gw, '/strict', next);
      assert.deepEqual([back.status, back.remaining], [200, '1']);
      assert.deepEqual([(await get(gw, '/strict', next)).status, (await get(gw, '/strict', next)).status], [200, 429]);
      assert.deepEqual([(await get(gw, '/tolerant', next)).status, (await get(gw, '/tolerant', next)).status, (await get(gw, '/tolerant', next)).status], [200, 200, 429]);
    });
  });
}
