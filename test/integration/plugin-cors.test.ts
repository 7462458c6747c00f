import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { EchoedRequest } from '../helpers/servers.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

const PREFLIGHT = { 'access-control-request-method': 'PUT' };

describe('cors plugin', () => {
  const ctx = useEchoGateway((upstream) => `
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: open
        paths: [/open]
        plugins: [{ name: cors }]
      - name: listed
        paths: [/listed]
        plugins:
          - name: cors
            config:
              origins: ['http://a.example.com', 'https://.*\\.regex\\.com', '.*\\.host\\.org']
              headers: [X-Custom, Authorization]
              exposed_headers: [X-Total, X-Page]
              methods: [GET, PUT]
              max_age: 600
      - name: creds
        paths: [/creds]
        plugins: [{ name: cors, config: { credentials: true } }]
      - name: creds-listed
        paths: [/creds-listed]
        plugins: [{ name: cors, config: { credentials: true, origins: ['http://a.example.com'] } }]
      - name: auth
        paths: [/auth]
        plugins:
          - { name: cors, config: { origins: ['http://a.example.com'], exposed_headers: [X-Total] } }
          - { name: key-auth }
      - name: continue
        paths: [/continue]
        plugins: [{ name: cors, config: { preflight_continue: true } }]
      - name: pna
        paths: [/pna]
        plugins: [{ name: cors, config: { private_network: true } }]
`);

  test('preflight with default config: 200 from the plugin, *, Kong\'s default methods, requested headers echoed', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/open`, {
      method: 'OPTIONS',
      headers: { origin: 'http://anywhere.test', ...PREFLIGHT, 'access-control-request-headers': 'X-Foo, Content-Type' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), '');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT');
    assert.equal(res.headers['access-control-allow-headers'], 'X-Foo, Content-Type');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.equal(res.headers['access-control-max-age'], undefined);
    assert.equal(res.headers['vary'], undefined, 'no Vary when every origin gets *');
  });

  test('an OPTIONS without Access-Control-Request-Method is not a preflight: it is proxied', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/open`, { method: 'OPTIONS', headers: { origin: 'http://x.test' } });
    assert.equal(res.statusCode, 200);
    const echoed = (await res.body.json()) as EchoedRequest;
    assert.equal(echoed.method, 'OPTIONS');
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });

  test('preflight for a listed origin: origin echoed, configured headers, methods and max age, Vary', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/listed`, { method: 'OPTIONS', headers: { origin: 'http://a.example.com', ...PREFLIGHT, 'access-control-request-headers': 'X-Other' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(res.headers['access-control-allow-origin'], 'http://a.example.com');
    assert.equal(res.headers['access-control-allow-headers'], 'X-Custom,Authorization');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,PUT');
    assert.equal(res.headers['access-control-max-age'], '600');
    assert.equal(res.headers['vary'], 'Origin');
    assert.equal(res.headers['access-control-expose-headers'], undefined, 'expose headers are for actual responses');
  });

  test('preflight from a disallowed origin: still 200, but no Access-Control-Allow-Origin', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/listed`, { method: 'OPTIONS', headers: { origin: 'http://evil.test', ...PREFLIGHT } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], 'GET,PUT');
  });

  test('simple requests: allowed origins (exact, normalized, regex, host regex) echoed with exposed headers; others not', async () => {
    const cases: [string, boolean][] = [
      ['http://a.example.com', true],
      ['http://A.Example.com:80', true],
      ['https://a.example.com', false],
      ['https://api.regex.com', true],
      ['https://api.regex.com.evil.test', false],
      ['http://api.regex.com', false],
      ['https://deep.sub.host.org', true],
      ['http://x.host.org:8080', true],
      ['https://host.org.evil.test', false],
      ['null', false],
    ];
    for (const [origin, allowed] of cases) {
      const res = await request(`${ctx.gw.proxyUrl}/listed`, { headers: { origin } });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      assert.equal(res.headers['access-control-allow-origin'], allowed ? origin : undefined, origin);
      assert.equal(res.headers['vary'], 'Origin', origin);
      assert.equal(res.headers['access-control-expose-headers'], 'X-Total,X-Page', origin);
    }
  });

  test('a request without Origin still gets Vary and the expose headers (Kong\'s default allow_origin_absent)', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/listed`);
    await res.body.dump();
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['vary'], 'Origin');
  });

  test('credentials with origins *: the request origin is echoed instead of *, with Allow-Credentials', async () => {
    const simple = await request(`${ctx.gw.proxyUrl}/creds`, { headers: { origin: 'http://app.test' } });
    await simple.body.dump();
    assert.equal(simple.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(simple.headers['access-control-allow-credentials'], 'true');
    assert.equal(simple.headers['vary'], 'Origin');
    const preflight = await request(`${ctx.gw.proxyUrl}/creds`, { method: 'OPTIONS', headers: { origin: 'http://app.test', ...PREFLIGHT } });
    await preflight.body.dump();
    assert.equal(preflight.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
  });

  test('credentials with listed origins: Allow-Credentials, origin only when allowed', async () => {
    const ok = await request(`${ctx.gw.proxyUrl}/creds-listed`, { headers: { origin: 'http://a.example.com' } });
    await ok.body.dump();
    assert.equal(ok.headers['access-control-allow-origin'], 'http://a.example.com');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    const no = await request(`${ctx.gw.proxyUrl}/creds-listed`, { headers: { origin: 'http://b.example.com' } });
    await no.body.dump();
    assert.equal(no.headers['access-control-allow-origin'], undefined);
  });

  test('key-auth\'s 401 carries the CORS headers (cors runs first, header_filter runs on the error)', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/auth`, { headers: { origin: 'http://a.example.com' } });
    assert.equal(res.statusCode, 401);
    const body = (await res.body.json()) as { message: string };
    assert.equal(body.message, 'No API key found in request');
    assert.equal(res.headers['access-control-allow-origin'], 'http://a.example.com');
    assert.equal(res.headers['access-control-expose-headers'], 'X-Total');
    assert.equal(res.headers['vary'], 'Origin');
  });

  test('a preflight is answered before key-auth asks for a key', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/auth`, { method: 'OPTIONS', headers: { origin: 'http://a.example.com', ...PREFLIGHT } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(res.headers['access-control-allow-origin'], 'http://a.example.com');
  });

  test('an authenticated request through key-auth gets the headers on the upstream answer', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/auth`, { headers: { origin: 'http://a.example.com', apikey: 'alice-key' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(res.headers['access-control-allow-origin'], 'http://a.example.com');
  });

  test('preflight_continue: the upstream answers the preflight and the plugin adds nothing', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/continue`, { method: 'OPTIONS', headers: { origin: 'http://a.test', ...PREFLIGHT } });
    assert.equal(res.statusCode, 200);
    const echoed = (await res.body.json()) as EchoedRequest;
    assert.equal(echoed.method, 'OPTIONS');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
  });

  test('private_network: Allow-Private-Network only when the preflight asks for it', async () => {
    const asked = await request(`${ctx.gw.proxyUrl}/pna`, {
      method: 'OPTIONS',
      headers: { origin: 'http://a.test', ...PREFLIGHT, 'access-control-request-private-network': 'true' },
    });
    await asked.body.dump();
    assert.equal(asked.headers['access-control-allow-private-network'], 'true');
    const plain = await request(`${ctx.gw.proxyUrl}/pna`, { method: 'OPTIONS', headers: { origin: 'http://a.test', ...PREFLIGHT } });
    await plain.body.dump();
    assert.equal(plain.headers['access-control-allow-private-network'], undefined);
  });
});
