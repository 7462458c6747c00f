import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { rawRequest, type EchoedRequest } from '../helpers/servers.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

/** basic-auth, alone and OR-ed with key-auth, through real sockets. */

const config = (upstream: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    basicauth_credentials:
      - username: alice-login
        password: "pa:ss word"
  - username: bob
    keyauth_credentials:
      - key: bob-key
  - username: anonymous
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: basic
        paths: [/basic]
        plugins: [{ name: basic-auth }]
      - name: hidden
        paths: [/hidden]
        plugins: [{ name: basic-auth, config: { hide_credentials: true, realm: internal } }]
      - name: either
        paths: [/either]
        plugins:
          - { name: key-auth, config: { anonymous: anonymous } }
          - { name: basic-auth, config: { anonymous: anonymous } }
          - { name: request-termination, consumer: anonymous, config: { status_code: 401, message: "Authentication required" } }
`;

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('basic-auth through the gateway', () => {
  const ctx = useEchoGateway(config);

  test('right credentials reach the upstream as the consumer, identified by the username (as Kong)', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/basic`, { headers: { authorization: basic('alice-login:pa:ss word') } });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-credential-identifier'], 'alice-login');
    assert.equal(seen.headers.authorization, basic('alice-login:pa:ss word'));
  });

  test('a wrong password, an unknown user, no header, a malformed header: 401 Unauthorized, Basic realm="service"', async () => {
    const cases: Record<string, string>[] = [
      { authorization: basic('alice-login:wrong') },
      { authorization: basic('nobody:pa:ss word') },
      {},
      { authorization: 'Basic not*base64' },
      { authorization: basic('no-colon') },
      { authorization: 'Bearer abc' },
    ];
    for (const headers of cases) {
      const res = await request(`${ctx.gw.proxyUrl}/basic`, { headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(res.headers['www-authenticate'], 'Basic realm="service"');
      assert.equal(((await res.body.json()) as { message: string }).message, 'Unauthorized');
    }
  });

  test('hide_credentials: the Authorization header never reaches the upstream; the realm is configurable', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/hidden`, { headers: { authorization: basic('alice-login:pa:ss word') } });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as EchoedRequest;
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    const refused = await request(`${ctx.gw.proxyUrl}/hidden`);
    assert.equal(refused.headers['www-authenticate'], 'Basic realm="internal"');
    await refused.body.dump();
  });

  test('Proxy-Authorization is accepted as well', async () => {
    const res = await rawRequest(
      ctx.gw.proxyPort,
      `GET /basic HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic('alice-login:pa:ss word')}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(res.status, 200);
    assert.match(res.body, /"x-consumer-username":"alice"/);
  });

  describe('OR-ing key-auth and basic-auth with anonymous (Kong\'s documented recipe)', () => {
    test('either credential alone is enough', async () => {
      const byKey = await request(`${ctx.gw.proxyUrl}/either`, { headers: { apikey: 'bob-key' } });
      assert.equal(byKey.statusCode, 200);
      assert.equal(((await byKey.body.json()) as EchoedRequest).headers['x-consumer-username'], 'bob');
      const byPassword = await request(`${ctx.gw.proxyUrl}/either`, { headers: { authorization: basic('alice-login:pa:ss word') } });
      assert.equal(byPassword.statusCode, 200);
      const seen = (await byPassword.body.json()) as EchoedRequest;
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    });

    test('a bad key does not spoil a good password, nor a bad password a good key', async () => {
      const res = await request(`${ctx.gw.proxyUrl}/either`, { headers: { apikey: 'nope', authorization: basic('alice-login:pa:ss word') } });
      assert.equal(((await res.body.json()) as EchoedRequest).headers['x-consumer-username'], 'alice');
      const other = await request(`${ctx.gw.proxyUrl}/either`, { headers: { apikey: 'bob-key', authorization: basic('alice-login:bad') } });
      assert.equal(((await other.body.json()) as EchoedRequest).headers['x-consumer-username'], 'bob');
    });

    test('neither: the anonymous consumer\'s request-termination answers', async () => {
      const res = await request(`${ctx.gw.proxyUrl}/either`);
      assert.equal(res.statusCode, 401);
      assert.equal(((await res.body.json()) as { message: string }).message, 'Authentication required');
    });
  });
});
