import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startEchoServer, startServer, rawRequest, type EchoedRequest } from '../helpers/servers.ts';
import { startGateway, useEchoGateway } from '../helpers/gateway.ts';

describe('gateway proxying', () => {
  const ctx = useEchoGateway((upstream) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}/base
    routes:
      - name: public
        paths: [/public]
      - name: protected
        paths: [/protected]
        strip_path: false
      - name: kept
        paths: [/kept]
        strip_path: false
        preserve_host: true
      - name: items
        paths: ["~/items/(?<id>\\\\d+)$"]
        methods: [GET]
      - name: secure-only
        paths: [/secure]
        protocols: [https]
      - name: secure-redirect
        paths: [/redirect-me]
        protocols: [https]
        https_redirect_status_code: 301
routes:
  - name: serviceless
    paths: [/nowhere]
`);

  test('no matching route answers 404 with Kong\'s message and a stable code', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/does-not-exist`);
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const body = (await res.body.json()) as { message: string; code: string };
    assert.equal(body.message, 'no Route matched with those values');
    assert.equal(body.code, 'NO_ROUTE');
  });

  test('a route without a service answers 503', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/nowhere`);
    assert.equal(res.statusCode, 503);
    assert.equal(((await res.body.json()) as { code: string }).code, 'NO_SERVICE');
  });

  test('strip_path joins the remainder to the service path and keeps the query', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/public/a/b?x=1&y=2`);
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.url, '/base/a/b?x=1&y=2');
    assert.equal(seen.headers['x-forwarded-prefix'], '/public');
    assert.equal(seen.headers['x-forwarded-path'], '/public/a/b');
    assert.equal(seen.headers.host, `127.0.0.1:${ctx.echo.port}`);
    assert.ok(String(res.headers.via).includes('sluice/'));
  });

  test('strip_path false forwards the whole path; preserve_host keeps the client Host', async () => {
    const seen = (await (await request(`${ctx.gw.proxyUrl}/kept/x`, { headers: { host: 'client.example' } })).body.json()) as EchoedRequest;
    assert.equal(seen.url, '/base/kept/x');
    assert.equal(seen.headers.host, 'client.example');
    assert.equal(seen.headers['x-forwarded-host'], 'client.example');
  });

  test('regex routes match with named captures and methods', async () => {
    assert.equal((await request(`${ctx.gw.proxyUrl}/items/42`)).statusCode, 200);
    const post = await request(`${ctx.gw.proxyUrl}/items/42`, { method: 'POST', body: 'x' });
    assert.equal(post.statusCode, 404);
    await post.body.dump();
    const notDigits = await request(`${ctx.gw.proxyUrl}/items/abc`);
    assert.equal(notDigits.statusCode, 404);
    await notDigits.body.dump();
  });

  test('dot segments are resolved before routing: /public/../protected reaches the protected route', async () => {
    for (const path of ['/public/../protected/x', '/public/%2e%2e/protected/x', '/public/%2E%2E/protected/x', '//public/./..//protected/x']) {
      const res = await rawRequest(ctx.gw.proxyPort, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 200, path);
      const seen = JSON.parse(res.body) as EchoedRequest;
      assert.equal(seen.url, '/base/protected/x', `${path} goes upstream normalized`);
    }
  });

  test('reserved escapes stay encoded and unreserved ones are decoded on the way upstream', async () => {
    const res = await rawRequest(ctx.gw.proxyPort, 'GET /public/a%2Fb/%7Euser/%41 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.equal((JSON.parse(res.body) as EchoedRequest).url, '/base/a%2Fb/~user/A');
  });

  test('malformed paths get 400 with a JSON body, never a crash', async () => {
    for (const path of ['/public/%zz', '/public/%4', '/public/%00x', '/public/a%00']) {
      const res = await rawRequest(ctx.gw.proxyPort, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 400, path);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'BAD_PATH', path);
    }
    const nul = await rawRequest(ctx.gw.proxyPort, Buffer.from('GET /public/a\0b HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'));
    assert.equal(nul.status, 400);
    // still serving afterwards
    assert.equal((await request(`${ctx.gw.proxyUrl}/public`)).statusCode, 200);
  });

  test('https-only routes answer 426 over plain HTTP, or redirect with the configured code', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/secure`);
    assert.equal(res.statusCode, 426);
    assert.equal(((await res.body.json()) as { message: string }).message, 'Please use HTTPS protocol');
    const redirect = await request(`${ctx.gw.proxyUrl}/redirect-me/x?q=1`, { headers: { host: 'api.example' } });
    assert.equal(redirect.statusCode, 301);
    assert.equal(redirect.headers.location, 'https://api.example/redirect-me/x?q=1');
    await redirect.body.dump();
  });

  test('hop-by-hop headers are stripped and X-Forwarded-For from an untrusted peer is replaced', async () => {
    const res = await rawRequest(
      ctx.gw.proxyPort,
      'GET /public HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
        'X-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n\r\n',
    );
    const seen = JSON.parse(res.body) as EchoedRequest;
    for (const name of ['x-secret', 'keep-alive', 'te']) assert.equal(seen.headers[name], undefined, name);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
  });
});

describe('gateway with trusted proxies', () => {
  test('X-Forwarded-For and the real-IP header are believed only from trusted_ips', async () => {
    const echo = await startEchoServer();
    const gw = await startGateway(
      `_format_version: "3.0"\nservices:\n  - name: e\n    url: ${echo.url}\n    routes:\n      - paths: [/]\n`,
      { trustedIps: ['127.0.0.0/8'] },
    );
    try {
      const seen = (await (
        await request(gw.proxyUrl, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.7', 'x-forwarded-proto': 'https' } })
      ).body.json()) as EchoedRequest;
      assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
      assert.equal(seen.headers['x-real-ip'], '203.0.113.7');
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
    } finally {
      await gw.close();
      await echo.close();
    }
  });
});

describe('upstream failures', () => {
  test('a refused connection is 502 and a slow upstream is 504, with JSON bodies', async () => {
    const slow = await startServer(() => {
      /* never answers */
    });
    const refused = await startServer(() => {});
    const refusedPort = refused.port;
    await refused.close();
    const gw = await startGateway(`
_format_version: "3.0"
services:
  - name: slow
    url: ${slow.url}
    read_timeout: 200
    retries: 0
    routes: [{ paths: [/slow] }]
  - name: gone
    url: http://127.0.0.1:${refusedPort}
    retries: 0
    routes: [{ paths: [/gone] }]
`);
    try {
      const timeout = await request(`${gw.proxyUrl}/slow`);
      assert.equal(timeout.statusCode, 504);
      assert.equal(((await timeout.body.json()) as { code: string }).code, 'UPSTREAM_TIMEOUT');
      const gone = await request(`${gw.proxyUrl}/gone`);
      assert.equal(gone.statusCode, 502);
      assert.equal(((await gone.body.json()) as { code: string }).code, 'UPSTREAM_UNAVAILABLE');
    } finally {
      await gw.close();
      await slow.close();
    }
  });
});
