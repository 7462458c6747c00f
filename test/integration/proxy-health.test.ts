import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { after, describe, it } from 'node:test';
import type { Upstream } from '../../src/config/types.ts';
import type { HealthChecker } from '../../src/proxy/health.ts';
import { createUpstreamClient } from '../../src/proxy/upstream-client.ts';
import { closedPort, listen, makeService, makeUpstream, startGateway, startServer, type Running } from './proxy-harness.ts';

function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves on the next transition of `address` to `healthy`. */
function transition(health: HealthChecker, address: string, healthy: boolean): Promise<string> {
  return new Promise((resolve) => {
    const off = health.onChange((a, h, reason) => {
      if (a === address && h === healthy) {
        off();
        resolve(reason);
      }
    });
  });
}

function withPassive(upstream: Upstream, unhealthy: { tcp_failures?: number; http_failures?: number; timeouts?: number }, successes = 1): Upstream {
  const hc = upstream.healthchecks;
  return {
    ...upstream,
    healthchecks: {
      ...hc,
      active: { ...hc.active, http_path: '/health', healthy: { ...hc.active.healthy, successes } },
      passive: { ...hc.passive, unhealthy: { ...hc.passive.unhealthy, ...unhealthy } },
    },
  };
}

describe('passive health checks with probes back in', () => {
  const client = createUpstreamClient({ probeIntervalMs: 20 });
  const running: Running[] = [];
  after(async () => {
    await client.close();
    await Promise.all(running.map((r) => r.close()));
  });

  it('takes a refusing target out after tcp_failures and probes it back in once it answers', async () => {
    const alive = await startServer((_req, res) => res.end('a'));
    running.push(alive);
    const deadPort = await closedPort();
    const deadAddress = `127.0.0.1:${deadPort}`;
    const upstream = withPassive(makeUpstream([`127.0.0.1:${alive.port}`, deadAddress], { id: 'hc-tcp' }), { tcp_failures: 1 });
    const gateway = await startGateway(client, { service: makeService({ host: upstream.name, retries: 2 }), upstream });
    running.push(gateway);

    for (let i = 0; i < 2; i++) assert.equal((await get(gateway.port)).body, 'a');
    const health = client.health(upstream.id)!;
    assert.equal(health.isHealthy(deadAddress), false);
    const back = transition(health, deadAddress, true);

    // Recovery: a server appears on the dead port and answers the probe's GET /health.
    const onDeadPort = createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'b'));
    running.push(await listen(onDeadPort, deadPort));

    assert.equal(await back, 'active probe succeeded');
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await get(gateway.port)).body);
    assert.deepEqual([...bodies].sort(), ['a', 'b']);
  });

  it('marks a target unhealthy after http_failures and needs `successes` good probes to return', async () => {
    let broken = true;
    let probes = 0;
    const flaky = await startServer((req, res) => {
      if (req.url === '/health') probes++;
      res.statusCode = broken ? 500 : 200;
      res.end('flaky');
    });
    const steady = await startServer((_req, res) => res.end('steady'));
    running.push(flaky, steady);
    const flakyAddress = `127.0.0.1:${flaky.port}`;
    const upstream = withPassive(makeUpstream([flakyAddress, `127.0.0.1:${steady.port}`], { id: 'hc-http' }), { http_failures: 2 }, 2);
    const gateway = await startGateway(client, { service: makeService({ host: upstream.name }), upstream });
    running.push(gateway);

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(gateway.port)).status);
    assert.deepEqual(statuses, [500, 200, 500, 200]);
    const health = client.health(upstream.id)!;
    assert.equal(health.isHealthy(flakyAddress), false);
    for (let i = 0; i < 4; i++) assert.equal((await get(gateway.port)).body, 'steady');

    const back = transition(health, flakyAddress, true);
    broken = false;
    await back;
    assert.ok(probes >= 2);
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await get(gateway.port)).body);
    assert.deepEqual([...bodies].sort(), ['flaky', 'steady']);
  });

  it('keeps health state across snapshots when the upstream is unchanged', async () => {
    const deadPort = await closedPort();
    const ok = await startServer((_req, res) => res.end('ok'));
    running.push(ok);
    const base = withPassive(makeUpstream([`127.0.0.1:${ok.port}`, `127.0.0.1:${deadPort}`], { id: 'hc-snap' }), { tcp_failures: 1 });
    const gateway = await startGateway(client, { service: makeService({ host: base.name, retries: 1 }), upstream: base });
    running.push(gateway);
    for (let i = 0; i < 2; i++) await get(gateway.port);
    const health = client.health(base.id)!;
    assert.equal(health.isHealthy(`127.0.0.1:${deadPort}`), false);
    // A structurally equal copy (the next snapshot) reuses the same state.
    const copy: Upstream = JSON.parse(JSON.stringify(base)) as Upstream;
    const again = await startGateway(client, { service: makeService({ host: copy.name, retries: 0 }), upstream: copy });
    running.push(again);
    for (let i = 0; i < 3; i++) assert.equal((await get(again.port)).status, 200);
    assert.equal(client.health(base.id), health);
    client.retainUpstreams([]);
    assert.equal(client.health(base.id), undefined);
  });
});
