import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'undici';
import { snapshotFrom, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { sample, scrape } from '../helpers/metrics.ts';
import { startEchoServer, startServer, type TestServer } from '../helpers/servers.ts';

const config = (echo: string, dead: string) => `_format_version: "3.0"
services:
  - name: echo
    url: ${echo}
    routes:
      - { name: open, paths: [/open] }
      - { name: bytes, paths: [/bytes] }
      - name: locked
        paths: [/locked]
        plugins: [{ name: key-auth }]
      - name: limited
        paths: [/limited]
        plugins: [{ name: rate-limiting, config: { minute: 2, policy: local } }]
  - name: dead
    url: ${dead}
    retries: 0
    routes:
      - { name: down, paths: [/down] }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
`;

/** Sends one raw HTTP/1.1 request and reads the whole answer (`Connection: close`: the server closes). */
function rawExchange(port: number, text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('GET /metrics after real traffic', () => {
  let echo: TestServer;
  let gw: TestGateway;
  let deadUrl: string;

  before(async () => {
    echo = await startEchoServer();
    const dead = await startServer(() => {});
    deadUrl = dead.url;
    await dead.close(); // nothing listens there any more: connections are refused
    gw = await startGateway(config(echo.url, deadUrl));
    const get = async (path: string, headers: Record<string, string> = {}) => (await request(`${gw.proxyUrl}${path}`, { headers })).body.dump();
    for (let i = 0; i < 3; i++) await get('/open/x');
    await get('/nowhere');
    await get('/down');
    await get('/locked');
    await get('/locked', { apikey: 'alice-key' });
    for (let i = 0; i < 3; i++) await get('/limited');
  });
  after(async () => {
    await gw.close();
    await echo.close();
  });

  test('requests by service, route and status code, with Kong-like names and types', async () => {
    const s = await scrape(gw.adminUrl);
    const requests = (service: string, route: string, code: string) => sample(s, 'sluice_http_requests_total', { service, route, code });
    assert.equal(requests('echo', 'open', '200'), 3);
    assert.equal(requests('', '', '404'), 1, 'no route matched: empty service and route');
    assert.equal(requests('dead', 'down', '502'), 1);
    assert.equal(requests('echo', 'locked', '401'), 1);
    assert.equal(requests('echo', 'locked', '200'), 1);
    assert.equal(requests('echo', 'limited', '200'), 2);
    assert.equal(requests('echo', 'limited', '429'), 1);
    assert.equal(s.types.get('sluice_http_requests_total'), 'counter');
    assert.equal(s.types.get('sluice_request_latency_ms'), 'histogram');
    assert.equal(s.types.get('sluice_bandwidth_bytes'), 'counter');
    assert.ok(sample(s, 'process_cpu_user_seconds_total') !== undefined, "Node's default process metrics are there");
    assert.ok(sample(s, 'nodejs_heap_size_used_bytes') !== undefined);
  });

  test('rate-limit rejections count the refusals of the rate-limiting plugin only', async () => {
    const s = await scrape(gw.adminUrl);
    assert.equal(sample(s, 'sluice_rate_limit_rejections_total', { service: 'echo', route: 'limited' }), 1);
    assert.equal(sample(s, 'sluice_rate_limit_rejections_total', { service: 'echo', route: 'locked' }), undefined, 'a key-auth 401 is no rate-limit rejection');
  });

  test('latency histograms: one observation per request, upstream only when an upstream answered', async () => {
    const s = await scrape(gw.adminUrl);
    const open = { service: 'echo', route: 'open' };
    assert.equal(sample(s, 'sluice_request_latency_ms_count', open), 3);
    assert.equal(sample(s, 'sluice_request_latency_ms_bucket', { ...open, le: '+Inf' }), 3);
    assert.equal(sample(s, 'sluice_upstream_latency_ms_count', open), 3);
    assert.ok((sample(s, 'sluice_request_latency_ms_sum', open) ?? 0) >= (sample(s, 'sluice_upstream_latency_ms_sum', open) ?? Infinity), 'the total includes the upstream time');
    let previous = 0;
    for (const le of ['1', '5', '10', '100', '1000', '60000', '+Inf']) {
      const value = sample(s, 'sluice_request_latency_ms_bucket', { ...open, le }) ?? NaN;
      assert.ok(value >= previous, `buckets are cumulative (le=${le})`);
      previous = value;
    }
    assert.equal(sample(s, 'sluice_request_latency_ms_count', { service: 'dead', route: 'down' }), 1);
    assert.equal(sample(s, 'sluice_upstream_latency_ms_count', { service: 'dead', route: 'down' }), undefined, 'a refused connection has no upstream latency');
    assert.equal(sample(s, 'sluice_request_latency_ms_count', { service: 'echo', route: 'limited' }), 3);
    assert.equal(sample(s, 'sluice_upstream_latency_ms_count', { service: 'echo', route: 'limited' }), 2, 'the 429 never reached the upstream');
  });

  test('bandwidth counts exactly the bytes read from and written to the client', async () => {
    const requestText = 'GET /bytes/abc HTTP/1.1\r\nHost: metrics.test\r\nConnection: close\r\n\r\n';
    const answer = await rawExchange(gw.proxyPort, requestText);
    assert.match(answer.toString('latin1'), /^HTTP\/1\.1 200 /);
    const s = await scrape(gw.adminUrl);
    assert.equal(sample(s, 'sluice_bandwidth_bytes', { service: 'echo', route: 'bytes', direction: 'ingress' }), Buffer.byteLength(requestText));
    assert.equal(sample(s, 'sluice_bandwidth_bytes', { service: 'echo', route: 'bytes', direction: 'egress' }), answer.length);
  });

  test('open connections are read at scrape time', async () => {
    const s = await scrape(gw.adminUrl);
    assert.ok((sample(s, 'sluice_open_connections') ?? 0) >= 1, 'at least the scrape itself');
  });

  test('config reloads count ok and failed; the failed one keeps the running config', async () => {
    const before = await scrape(gw.adminUrl);
    assert.equal(sample(before, 'sluice_config_reloads_total', { result: 'ok' }), 0);
    assert.equal(sample(before, 'sluice_config_reloads_total', { result: 'failed' }), 0);
    gw.gateway.reload(snapshotFrom(config(echo.url, deadUrl)));
    const unavailable = `_format_version: "3.0"\nplugins: [{ name: rate-limiting, config: { minute: 1, policy: redis } }]\n`;
    assert.throws(() => gw.gateway.reload(snapshotFrom(unavailable)), /redis/);
    const s = await scrape(gw.adminUrl);
    assert.equal(sample(s, 'sluice_config_reloads_total', { result: 'ok' }), 1);
    assert.equal(sample(s, 'sluice_config_reloads_total', { result: 'failed' }), 1);
    const still = await request(`${gw.proxyUrl}/open/y`);
    assert.equal(still.statusCode, 200);
    await still.body.dump();
  });

  test('the counters keep counting across a reload (same route names, new snapshot)', async () => {
    const before = sample(await scrape(gw.adminUrl), 'sluice_http_requests_total', { service: 'echo', route: 'open', code: '200' }) ?? NaN;
    gw.gateway.reload(snapshotFrom(config(echo.url, deadUrl)));
    await (await request(`${gw.proxyUrl}/open/z`)).body.dump();
    assert.equal(sample(await scrape(gw.adminUrl), 'sluice_http_requests_total', { service: 'echo', route: 'open', code: '200' }), before + 1);
  });
});

describe('/metrics answers', () => {
  let gw: TestGateway;
  let off: TestGateway;
  before(async () => {
    gw = await startGateway('_format_version: "3.0"\n');
    off = await startGateway('_format_version: "3.0"\n', { metrics: false });
  });
  after(async () => {
    await gw.close();
    await off.close();
  });

  test('a method other than GET/HEAD is 405 with the Admin API error envelope', async () => {
    const res = await request(`${gw.adminUrl}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(res.statusCode, 405);
    assert.equal(((await res.body.json()) as { message: string }).message, 'Method not allowed');
  });

  test('with metrics off, /metrics is 404 saying so, and requests still work', async () => {
    const res = await request(`${off.adminUrl}/metrics`);
    assert.equal(res.statusCode, 404);
    assert.equal(((await res.body.json()) as { message: string }).message, 'Metrics are off on this node (metrics = off)');
    const proxied = await request(`${off.proxyUrl}/nothing`);
    assert.equal(proxied.statusCode, 404);
    await proxied.body.dump();
  });

  test('each gateway has its own registry: two in one process do not share counts', async () => {
    await (await request(`${gw.proxyUrl}/a`)).body.dump();
    const s = await scrape(gw.adminUrl);
    assert.equal(sample(s, 'sluice_http_requests_total', { service: '', route: '', code: '404' }), 1);
    const other = await startGateway('_format_version: "3.0"\n');
    try {
      assert.equal(sample(await scrape(other.adminUrl), 'sluice_http_requests_total', { service: '', route: '', code: '404' }), undefined);
    } finally {
      await other.close();
    }
  });
});
