import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'undici';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/servers.ts';

const SECRET = 'bob-secret-that-is-long-enough!!';

function jwt(claims: Record<string, unknown>, secret = SECRET): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const CONFIG = `_format_version: "3.0"
consumers:
  - username: bob
    jwt_secrets: [{ key: bob-iss, secret: "${SECRET}" }]
routes:
  - name: feed
    paths: ["~/feed/(?<topic>[a-z]+)$"]
    plugins:
      - name: jwt
        config: { uri_param_names: [access_token], cookie_names: [session], claims_to_verify: [exp] }
      - name: rate-limiting
        config: { minute: 3, limit_by: consumer }
      - name: pubsub-subscriber
        config:
          channels: ["feed:$(uri_captures.topic)"]
          transports: [eventsource, websocket, longpoll, chunked, multipart]
`;

describe('pub/sub security', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway(CONFIG, {
      listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
    });
  });
  after(() => gw.close());

  const bad = {
    missing: '',
    malformed: '?access_token=abc.def',
    'wrong signature': `?access_token=${jwt({ iss: 'bob-iss', exp: 4102444800 }, 'another-secret-another-secret!!')}`,
    expired: `?access_token=${jwt({ iss: 'bob-iss', exp: 1 })}`,
    'alg none': `?access_token=${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"bob-iss"}').toString('base64url')}.`,
  };

  test('a missing, malformed, forged or expired token never opens a stream, on any transport', async () => {
    const transports: Record<string, Record<string, string>> = {
      eventsource: { accept: 'text/event-stream' },
      longpoll: {},
      chunked: { te: 'chunked' },
      multipart: { accept: 'multipart/mixed' },
    };
    for (const [why, query] of Object.entries(bad)) {
      for (const [transport, headers] of Object.entries(transports)) {
        const res = await request(`${gw.proxyUrl}/feed/news${query}`, { headers });
        assert.equal(res.statusCode, 401, `${transport}, ${why}`);
        assert.match(String(res.headers['content-type']), /application\/json/, `${transport}, ${why}`);
        await res.body.dump();
      }
      const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/feed/news${query}`);
      ws.on('error', () => {});
      const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(response.statusCode, 401, `websocket, ${why}`);
      ws.terminate();
    }
    const info = await request(`http://${gw.gateway.addresses.internal[0]}/pub/feed%3Anews`);
    assert.equal(info.statusCode, 404, 'no subscriber ever created the channel');
    await info.body.dump();
  });

  test('rate limiting counts connection attempts; the token may come from a cookie', async () => {
    const token = jwt({ iss: 'bob-iss', exp: Math.floor(Date.now() / 1000) + 600 });
    const opened: number[] = [];
    const streams = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(`${gw.proxyUrl}/feed/sports`, { headers: { accept: 'text/event-stream', cookie: `session=${token}` } });
      opened.push(res.statusCode);
      if (res.statusCode === 200) streams.push(res);
      else await res.body.dump();
    }
    assert.deepEqual(opened, [200, 200, 200, 429]);
    for (const res of streams) res.body.destroy();
  });

  test('the internal publisher stays unreachable through the proxy: Host and X-Forwarded-For tricks', async () => {
    const internal = gw.gateway.addresses.internal[0] ?? '';
    for (const head of [
      `POST /pub/feed:news HTTP/1.1\r\nHost: ${internal}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
      `POST /pub/feed:news HTTP/1.1\r\nHost: localhost:8010\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Host: ${internal}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
      `POST http://${internal}/pub/feed:news HTTP/1.1\r\nHost: ${internal}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
      'POST //pub/feed:news HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx',
    ]) {
      const res = await rawRequest(gw.proxyPort, head);
      assert.equal(res.status, 404, head.split('\r\n')[0]);
    }
    const info = await request(`http://${internal}/pub/feed%3Anews`);
    assert.equal(info.statusCode, 404, 'nothing was published');
    await info.body.dump();
  });
});
