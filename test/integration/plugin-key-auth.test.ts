import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { rawRequest, type EchoedRequest } from '../helpers/servers.ts';
import { snapshotFrom, startGateway, useEchoGateway, type ErrorBody } from '../helpers/gateway.ts';
import { keyAuthClock } from '../../src/plugins/bundled/key-auth/key-index.ts';

/** key-auth through real sockets: what a client gets back and what the upstream receives. */

const config = (upstream: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    custom_id: alice-1
    keyauth_credentials:
      - key: alice-key
  - username: bob
    keyauth_credentials:
      - key: bob-key
        ttl: 3600
  - username: anonymous
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: key
        paths: [/key]
        plugins: [{ name: key-auth }]
      - name: hidden
        paths: [/hidden]
        plugins: [{ name: key-auth, config: { hide_credentials: true, key_in_body: true, key_names: [apikey, x-key] } }]
      - name: realm
        paths: [/realm]
        plugins: [{ name: key-auth, config: { realm: api, key_in_query: false } }]
      - name: anon
        paths: [/anon]
        plugins: [{ name: key-auth, config: { anonymous: anonymous } }]
      - name: ghost
        paths: [/ghost]
        plugins: [{ name: key-auth, config: { anonymous: ghost } }]
      - name: preflight
        paths: [/preflight]
        plugins: [{ name: key-auth, config: { run_on_preflight: false } }]
`;

describe('key-auth through the gateway', () => {
  const ctx = useEchoGateway(config);
  /** The config the gateway runs; read inside tests only, once the echo upstream is up. */
  const yaml = () => config(ctx.echo.url);
  const realNow = keyAuthClock.now;

  afterEach(() => {
    keyAuthClock.now = realNow;
  });

  const credentialId = (key: string) => {
    const row = snapshotFrom(yaml()).credentials.get('keyauth_credentials')?.find((c) => c.key === key);
    assert.ok(row);
    return row.id;
  };
  const consumerId = (username: string) => [...snapshotFrom(yaml()).consumers.values()].find((c) => c.username === username)?.id;

  test('a valid key in the header reaches the upstream with the consumer identity headers', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/key/x`, { headers: { apikey: 'alice-key', 'x-consumer-username': 'mallory' } });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-custom-id'], 'alice-1');
    assert.equal(seen.headers['x-consumer-id'], consumerId('alice'));
    assert.equal(seen.headers['x-credential-identifier'], credentialId('alice-key'));
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    // Without hide_credentials the key goes upstream as sent.
    assert.equal(seen.headers.apikey, 'alice-key');
  });

  test('a valid key in the query string works the same', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/key?apikey=bob-key&q=1`);
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-consumer-username'], 'bob');
    assert.equal(seen.url, '/?apikey=bob-key&q=1');
  });

  test('no key: 401 "No API key found in request" with WWW-Authenticate: Key realm="kong"', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/key`);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Key realm="kong"');
    const body = (await res.body.json()) as ErrorBody;
    assert.equal(body.message, 'No API key found in request');
    assert.equal(typeof body.request_id, 'string');
  });

  test('an unknown key: 401 "Unauthorized"', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/key`, { headers: { apikey: 'guess' } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Key realm="kong"');
    assert.equal(((await res.body.json()) as ErrorBody).message, 'Unauthorized');
  });

  test('the key repeated in the query: 401 "Duplicate API key found"', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/key?apikey=alice-key&apikey=bob-key`);
    assert.equal(res.statusCode, 401);
    assert.equal(((await res.body.json()) as ErrorBody).message, 'Duplicate API key found');
  });

  test('the key header sent twice is "Duplicate API key found", even when both copies are valid', async () => {
    const res = await rawRequest(ctx.gw.proxyPort, 'GET /key HTTP/1.1\r\nHost: x\r\napikey: alice-key\r\napikey: alice-key\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 401);
    assert.match(res.head, /www-authenticate: Key realm="kong"/i);
    assert.equal((JSON.parse(res.body) as ErrorBody).message, 'Duplicate API key found');
  });

  test('the configured realm names the challenge; key_in_query false ignores the query', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/realm?apikey=alice-key`);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Key realm="api"');
    assert.equal(((await res.body.json()) as ErrorBody).message, 'No API key found in request');
  });

  test('hide_credentials: the header key never reaches the upstream', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/hidden`, { headers: { 'x-key': 'alice-key', other: 'kept' } });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-key'], undefined);
    assert.equal(seen.headers.other, 'kept');
    assert.equal(seen.headers['x-consumer-username'], 'alice');
  });

  test('hide_credentials: the query key is removed, the other arguments kept as sent', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/hidden/p?a=1&apikey=alice-key&b=%2F`);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(res.statusCode, 200);
    assert.equal(seen.url, '/p?a=1&b=%2F');
    const only = await request(`${ctx.gw.proxyUrl}/hidden/p?apikey=alice-key`);
    assert.equal(((await only.body.json()) as EchoedRequest).url, '/p');
  });

  test('key_in_body with hide_credentials: a JSON body key authenticates and is removed from the body', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/hidden`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apikey: 'bob-key', data: [1, 2] }),
    });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-consumer-username'], 'bob');
    assert.deepEqual(JSON.parse(seen.body), { data: [1, 2] });
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
  });

  test('key_in_body reads urlencoded forms too', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/hidden`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x-key=alice-key&name=a+b',
    });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.body, 'name=a+b');
  });

  test('anonymous: a request without a (valid) key goes upstream as the anonymous consumer', async () => {
    for (const headers of [{}, { apikey: 'wrong' }]) {
      const res = await request(`${ctx.gw.proxyUrl}/anon`, { headers });
      assert.equal(res.statusCode, 200);
      const seen = (await res.body.json()) as EchoedRequest;
      assert.equal(seen.headers['x-consumer-username'], 'anonymous');
      assert.equal(seen.headers['x-consumer-id'], consumerId('anonymous'));
      assert.equal(seen.headers['x-anonymous-consumer'], 'true');
      assert.equal(seen.headers['x-credential-identifier'], undefined);
    }
    const authenticated = await request(`${ctx.gw.proxyUrl}/anon`, { headers: { apikey: 'alice-key', 'x-anonymous-consumer': 'true' } });
    const seen = (await authenticated.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
  });

  test('an anonymous consumer that does not exist: 500 with Kong\'s message', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/ghost`);
    assert.equal(res.statusCode, 500);
    assert.equal(((await res.body.json()) as ErrorBody).message, "anonymous consumer ghost is configured but doesn't exist");
    const ok = await request(`${ctx.gw.proxyUrl}/ghost`, { headers: { apikey: 'alice-key' } });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  test('run_on_preflight false: OPTIONS passes unauthenticated, other methods do not', async () => {
    const preflight = await request(`${ctx.gw.proxyUrl}/preflight`, { method: 'OPTIONS' });
    assert.equal(preflight.statusCode, 200);
    assert.equal(((await preflight.body.json()) as EchoedRequest).headers['x-consumer-id'], undefined);
    const get = await request(`${ctx.gw.proxyUrl}/preflight`);
    assert.equal(get.statusCode, 401);
    await get.body.dump();
    const options = await request(`${ctx.gw.proxyUrl}/key`, { method: 'OPTIONS' });
    assert.equal(options.statusCode, 401);
    await options.body.dump();
  });

  test('a key with a ttl stops working once the ttl has elapsed since the config was loaded', async () => {
    let now = 0;
    keyAuthClock.now = () => now;
    const local = await startGateway(yaml());
    try {
      now = 3_599_000;
      const live = await request(`${local.proxyUrl}/key`, { headers: { apikey: 'bob-key' } });
      assert.equal(live.statusCode, 200);
      await live.body.dump();
      now = 3_600_000;
      const expired = await request(`${local.proxyUrl}/key`, { headers: { apikey: 'bob-key' } });
      assert.equal(expired.statusCode, 401);
      assert.equal(((await expired.body.json()) as ErrorBody).message, 'Unauthorized');
    } finally {
      await local.close();
    }
  });
});
