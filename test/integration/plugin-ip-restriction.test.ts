import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startEchoServer, type TestServer } from '../helpers/servers.ts';
import { startGateway, useEchoGateway, type TestGateway } from '../helpers/gateway.ts';

function config(upstream: string): string {
  return `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: deny-loopback
        paths: [/deny-loopback]
        plugins: [{ name: ip-restriction, config: { deny: [127.0.0.1, "::1"] } }]
      - name: allow-loopback
        paths: [/allow-loopback]
        plugins: [{ name: ip-restriction, config: { allow: [127.0.0.0/8, "::1/128"] } }]
      - name: allow-v4-only
        paths: [/allow-v4-only]
        plugins: [{ name: ip-restriction, config: { allow: [127.0.0.0/8] } }]
      - name: allow-other
        paths: [/allow-other]
        plugins: [{ name: ip-restriction, config: { allow: [10.0.0.0/8], status: 401, message: Go away } }]
      - name: both
        paths: [/both]
        plugins: [{ name: ip-restriction, config: { allow: [127.0.0.0/8], deny: [127.0.0.1] } }]
      - name: forwarded
        paths: [/forwarded]
        plugins: [{ name: ip-restriction, config: { deny: [203.0.113.0/24, "2001:db8::/32"] } }]
      - name: mapped
        paths: [/mapped]
        plugins: [{ name: ip-restriction, config: { allow: ["::ffff:127.0.0.0/104"] } }]
`;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: res.headers['content-type']?.toString().includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

describe('ip-restriction plugin (IPv4 client)', () => {
  const ctx = useEchoGateway(config);

  test("a denied address gets Kong's 403 body", async () => {
    const res = await get(`${ctx.gw.proxyUrl}/deny-loopback`);
    assert.equal(res.status, 403);
    assert.equal(res.json?.message, 'Your IP address is not allowed');
    assert.equal(typeof res.json?.request_id, 'string');
  });

  test('an allowed address reaches the upstream; outside the allow list is refused with the configured status/message', async () => {
    assert.equal((await get(`${ctx.gw.proxyUrl}/allow-loopback`)).status, 200);
    const res = await get(`${ctx.gw.proxyUrl}/allow-other`);
    assert.equal(res.status, 401);
    assert.equal(res.json?.message, 'Go away');
  });

  test('deny is checked before allow', async () => {
    assert.equal((await get(`${ctx.gw.proxyUrl}/both`)).status, 403);
  });

  test('an IPv4-mapped CIDR matches an IPv4 client', async () => {
    assert.equal((await get(`${ctx.gw.proxyUrl}/mapped`)).status, 200);
  });

  test('X-Forwarded-For is ignored from an untrusted peer', async () => {
    assert.equal((await get(`${ctx.gw.proxyUrl}/forwarded`, { 'x-forwarded-for': '203.0.113.7' })).status, 200);
  });
});

describe('ip-restriction plugin behind a trusted proxy', () => {
  const ctx = useEchoGateway(config, { trustedIps: ['127.0.0.1'], realIpHeader: 'x-forwarded-for' });

  test('the address the trusted proxy forwards is the one checked', async () => {
    assert.equal((await get(`${ctx.gw.proxyUrl}/forwarded`, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' })).status, 403);
    assert.equal((await get(`${ctx.gw.proxyUrl}/forwarded`, { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' })).status, 200);
    assert.equal((await get(`${ctx.gw.proxyUrl}/forwarded`, { 'x-forwarded-for': '2001:db8::42' })).status, 403);
    // The real client is not loopback, so the loopback deny list no longer applies.
    assert.equal((await get(`${ctx.gw.proxyUrl}/deny-loopback`, { 'x-forwarded-for': '198.51.100.1' })).status, 200);
  });
});

describe('ip-restriction plugin (IPv6 and dual-stack listeners)', () => {
  let echo: TestServer;
  let v6: TestGateway;
  let dual: TestGateway;
  before(async () => {
    echo = await startEchoServer();
    v6 = await startGateway(config(echo.url), { listen: { proxy: [{ host: '::1', port: 0 }], admin: [], internal: [], status: [] } });
    dual = await startGateway(config(echo.url), { listen: { proxy: [{ host: '::', port: 0 }], admin: [], internal: [], status: [] } });
  });
  after(async () => {
    await v6.close();
    await dual.close();
    await echo.close();
  });

  test('an IPv6 client is matched against IPv6 entries only', async () => {
    const base = `http://[::1]:${v6.proxyPort}`;
    assert.equal((await get(`${base}/deny-loopback`)).status, 403);
    assert.equal((await get(`${base}/allow-loopback`)).status, 200);
    assert.equal((await get(`${base}/allow-v4-only`)).status, 403);
  });

  test('an IPv4 client of a dual-stack listener (seen as ::ffff:127.0.0.1) is IPv4', async () => {
    const base = `http://127.0.0.1:${dual.proxyPort}`;
    assert.equal((await get(`${base}/allow-v4-only`)).status, 200);
    assert.equal((await get(`${base}/deny-loopback`)).status, 403);
  });
});

describe('ip-restriction config errors', () => {
  test('neither allow nor deny, or a bad CIDR, refuses the config', async () => {
    const bad = (plugin: string) => `
_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    routes: [{ paths: [/], plugins: [${plugin}] }]
`;
    await assert.rejects(startGateway(bad('{ name: ip-restriction, config: {} }')), /at least one of these fields must be non-empty: 'config.allow', 'config.deny'/);
    await assert.rejects(startGateway(bad('{ name: ip-restriction, config: { allow: [10.0.0.0/33] } }')), /invalid ip or cidr range: '10.0.0.0\/33'/);
  });
});
