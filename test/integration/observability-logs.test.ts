import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startEchoServer, startServer, type TestServer } from '../helpers/servers.ts';
import { createLogger, isPretty } from '../../src/observability/logger.ts';

type Line = Record<string, unknown>;

function capture(format: 'json' | 'pretty' = 'json') {
  const lines: Line[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(String(chunk));
      if (format === 'json') for (const text of String(chunk).split('\n')) if (text !== '') lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: createLogger('info', stream, format), lines, raw };
}

const config = (echo: string, dead: string) => `_format_version: "3.0"
services:
  - name: echo
    url: ${echo}
    routes:
      - name: traced
        paths: [/traced]
        plugins: [{ name: correlation-id, config: { header_name: X-Trace } }]
      - name: private
        paths: [/private]
        plugins: [{ name: key-auth }]
  - name: dead
    url: ${dead}
    retries: 0
    routes: [{ name: down, paths: [/down] }]
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
`;

describe('access log: one JSON line per request', () => {
  let echo: TestServer;
  let gw: TestGateway;
  let lines: Line[];

  before(async () => {
    echo = await startEchoServer();
    const dead = await startServer(() => {});
    await dead.close();
    const captured = capture();
    lines = captured.lines;
    gw = await startGateway(config(echo.url, dead.url), { logger: captured.logger });
  });
  after(async () => {
    await gw.close();
    await echo.close();
  });

  test('every request gets exactly one line with its fields', async () => {
    const answers: { id: string; status: number }[] = [];
    const send = async (path: string, headers: Record<string, string> = {}) => {
      const res = await request(`${gw.proxyUrl}${path}`, { headers: { 'x-real-ip': '10.9.9.9', ...headers } });
      const text = await res.body.text();
      const id = res.statusCode === 200 ? (JSON.parse(text) as { headers: Record<string, string> }).headers['x-trace'] : (JSON.parse(text) as { request_id?: string }).request_id;
      answers.push({ id: id ?? '', status: res.statusCode });
      return { res, text };
    };
    await send('/traced/a?secret=1', { 'x-trace': 'trace-123' });
    await send('/private/b', { apikey: 'alice-key' });
    await send('/private/c');
    await send('/nope');
    const access = lines.filter((l) => l.event === 'access');
    assert.equal(access.length, 4, 'one line per request');
    const [traced, priv, refused, none] = access as [Line, Line, Line, Line];
    assert.deepEqual(
      { method: traced.method, path: traced.path, status: traced.status, route: traced.route, service: traced.service, correlation_id: traced.correlation_id, client_ip: traced.client_ip, msg: traced.msg, level: traced.level },
      { method: 'GET', path: '/traced/a', status: 200, route: 'traced', service: 'echo', correlation_id: 'trace-123', client_ip: '127.0.0.1', msg: 'request', level: 30 },
      'the query (which may carry secrets) is not logged',
    );
    assert.equal(typeof traced.request_id, 'string');
    assert.ok(typeof traced.latency_ms === 'number' && typeof traced.upstream_latency_ms === 'number');
    assert.ok((traced.latency_ms as number) >= (traced.upstream_latency_ms as number));
    assert.ok((traced.bytes_in as number) > 0 && (traced.bytes_out as number) > 0);
    assert.equal(priv.consumer, 'alice');
    assert.equal(priv.status, 200);
    assert.deepEqual({ status: refused.status, route: refused.route, consumer: refused.consumer, upstream: refused.upstream_latency_ms }, { status: 401, route: 'private', consumer: undefined, upstream: undefined });
    assert.equal(refused.request_id, answers[2]?.id, 'the request id the client saw');
    assert.deepEqual({ status: none.status, route: none.route, request_id: none.request_id }, { status: 404, route: undefined, request_id: answers[3]?.id });
  });

  test('an upstream failure logs a warning with its stable code besides the access line', async () => {
    const res = await request(`${gw.proxyUrl}/down`);
    assert.equal(res.statusCode, 502);
    const { request_id: id } = (await res.body.json()) as { request_id: string };
    const warning = lines.find((l) => l.request_id === id && l.event === undefined);
    assert.ok(warning, 'an error-log line for the request');
    assert.deepEqual({ level: warning.level, code: warning.code, route: warning.route }, { level: 40, code: 'UPSTREAM_UNAVAILABLE', route: 'down' });
    assert.equal(lines.filter((l) => l.request_id === id && l.event === 'access').length, 1);
  });

  test('a client that leaves before the answer is logged as 499', async () => {
    const slow = await startServer(() => {}); // never answers
    const captured = capture();
    const gw2 = await startGateway(`_format_version: "3.0"\nservices: [{ name: s, url: "${slow.url}", routes: [{ name: r, paths: [/] }] }]\n`, { logger: captured.logger });
    try {
      const abort = new AbortController();
      const arrived = new Promise<void>((resolve) => slow.server.once('request', () => resolve()));
      const pending = request(`${gw2.proxyUrl}/wait`, { signal: abort.signal }).catch(() => undefined);
      await arrived;
      abort.abort();
      await pending;
      await gw2.close(); // the access line is written once the gateway saw the client go
      const access = captured.lines.filter((l) => l.event === 'access');
      assert.equal(access.length, 1);
      assert.equal(access[0]?.status, 499);
    } finally {
      await gw2.close();
      await slow.close();
    }
  });
});

describe('access_log off and log formats', () => {
  test('access log off: no access lines, error logs stay', async () => {
    const captured = capture();
    const gw = await startGateway('_format_version: "3.0"\n', { logger: captured.logger, accessLog: false });
    try {
      await (await request(`${gw.proxyUrl}/x`)).body.dump();
    } finally {
      await gw.close();
    }
    assert.equal(captured.lines.filter((l) => l.event === 'access').length, 0);
  });

  test('pretty output renders the same event for people', async () => {
    const captured = capture('pretty');
    captured.logger.info({ event: 'access', status: 200, route: 'r' }, 'request');
    const text = captured.raw.join('');
    assert.match(text, /INFO/);
    assert.match(text, /request/);
    assert.match(text, /route: "r"/);
    assert.throws(() => JSON.parse(text.trim()), 'not JSON');
  });

  test('auto is JSON unless stdout is a terminal and no destination is given', () => {
    const destination = new Writable({ write: (_c, _e, done) => done() });
    assert.equal(isPretty('auto', destination), false);
    assert.equal(isPretty('auto'), process.stdout.isTTY === true);
    assert.equal(isPretty('json'), false);
    assert.equal(isPretty('pretty', destination), true);
  });
});
