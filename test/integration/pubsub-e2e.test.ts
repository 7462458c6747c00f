import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'undici';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const SECRET = 'alice-secret-that-is-long-enough';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

const CONFIG = `_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets: [{ key: alice-iss, secret: ${SECRET} }]
  - username: newsroom
    keyauth_credentials: [{ key: newsroom-key }]
    acls: [{ group: publishers }]
  - username: reader
    keyauth_credentials: [{ key: reader-key }]
routes:
  - name: publish
    paths: ["~/publish/(?<rooms>[a-z0-9,-]+)$"]
    plugins:
      - name: key-auth
      - name: acl
        config: { allow: [publishers] }
      - name: pubsub-publisher
        config: { channels: ["$(uri_captures.rooms)"], channel_id_split_delimiter: "," }
  - name: chat-events
    paths: ["~/chat/(?<room>[a-z0-9-]+)/events$"]
    plugins:
      - name: jwt
        config: { uri_param_names: [access_token], claims_to_verify: [exp] }
      - name: pubsub-subscriber
        config:
          channels: ["chat:$(uri_captures.room)", "user:$(consumer.username)"]
          transports: [eventsource, websocket, longpoll]
`;

describe('pub/sub behind the plugin chain (the scenario Sluice exists for)', () => {
  let gw: TestGateway;
  let internal: string;
  const token = jwt({ iss: 'alice-iss', sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 });

  before(async () => {
    gw = await startGateway(CONFIG, {
      listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [{ host: '127.0.0.1', port: 0 }], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
    });
    internal = `http://${gw.gateway.addresses.internal[0]}`;
  });
  after(() => gw.close());

  const publish = (channel: string, body: string, headers: Record<string, string> = {}) =>
    request(`${internal}/pub/${encodeURIComponent(channel)}`, { method: 'POST', body, headers });

  test('a request without a valid token never gets a stream', async () => {
    for (const query of ['', '?access_token=not.a.token', `?access_token=${jwt({ iss: 'alice-iss', exp: 1 })}`]) {
      const res = await request(`${gw.proxyUrl}/chat/lobby/events${query}`, { headers: { accept: 'text/event-stream' } });
      assert.equal(res.statusCode, 401, query);
      assert.match(String(res.headers['content-type']), /json/);
      await res.body.dump();
    }
  });

  test('EventSource with a token in the query receives what the internal publisher sends', async () => {
    const source = new EventSource(`${gw.proxyUrl}/chat/lobby/events?access_token=${token}`);
    try {
      await once(source as unknown as EventTarget as never, 'open');
      const received = new Promise<MessageEvent>((resolve) => source.addEventListener('message', resolve, { once: true }));
      const published = await publish('chat:lobby', 'hello room');
      assert.equal(published.statusCode, 201, 'a subscriber is listening');
      await published.body.dump();
      const event = await received;
      assert.equal(event.data, 'hello room');
      assert.match(event.lastEventId, /^\d+:\[\d+\],-$/, 'multiplexed id, slot of chat:lobby marked');
    } finally {
      source.close();
    }
  });

  test('WebSocket and long-poll subscribers get messages too; deleting the user channel revokes', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/chat/lobby/events?access_token=${token}`);
    await once(ws, 'open');
    const wsMessage = once(ws, 'message');
    // A long-poll walks the buffer: the first answer is the oldest message (from the test
    // above), and its Last-Modified + Etag make the next request wait for a new one.
    const url = `${gw.proxyUrl}/chat/lobby/events?access_token=${token}`;
    const first = await request(url);
    assert.equal(first.statusCode, 200);
    assert.equal(await first.body.text(), 'hello room');
    const walk = { 'if-modified-since': String(first.headers['last-modified']), 'if-none-match': String(first.headers.etag) };
    assert.match(walk['if-none-match'], /^\[\d+\],-$/);
    const poll = request(url, { headers: walk });
    await waitForSubscribers(`${internal}/pub/chat%3Alobby`, 2);
    (await publish('chat:lobby', 'to everyone')).body.dump();
    assert.equal(String((await wsMessage)[0]), 'to everyone');
    const polled = await poll;
    assert.equal(polled.statusCode, 200);
    assert.equal(await polled.body.text(), 'to everyone');

    const closed = once(ws, 'close');
    const deleted = await request(`${internal}/pub/user%3Aalice`, { method: 'DELETE' });
    assert.equal(deleted.statusCode, 200);
    await deleted.body.dump();
    const [code] = (await closed) as [number];
    assert.equal(code, 1001, 'revocation closes the stream (nchan: 1001 "410 Gone")');
  });

  test('pubsub-publisher publishes from the proxy listener behind its own plugins', async () => {
    const anonymous = await request(`${gw.proxyUrl}/publish/chat:news`, { method: 'POST', body: 'x' });
    assert.equal(anonymous.statusCode, 404, 'the route only takes [a-z0-9,-] ids');
    await anonymous.body.dump();
    const noKey = await request(`${gw.proxyUrl}/publish/news`, { method: 'POST', body: 'x' });
    assert.equal(noKey.statusCode, 401);
    await noKey.body.dump();
    const notAllowed = await request(`${gw.proxyUrl}/publish/news`, { method: 'POST', body: 'x', headers: { apikey: 'reader-key' } });
    assert.equal(notAllowed.statusCode, 403);
    await notAllowed.body.dump();

    const one = await request(`${gw.proxyUrl}/publish/news`, { method: 'POST', body: 'breaking', headers: { apikey: 'newsroom-key', accept: 'application/json' } });
    assert.equal(one.statusCode, 202, 'no subscriber yet');
    assert.equal(((await one.body.json()) as { messages: number }).messages, 1);
    const both = await request(`${gw.proxyUrl}/publish/news,sports`, { method: 'POST', body: 'everywhere', headers: { apikey: 'newsroom-key' } });
    assert.equal(both.statusCode, 202);
    await both.body.dump();
    for (const [channel, messages] of [['news', 2], ['sports', 1]] as const) {
      const info = await request(`${internal}/pub/${channel}`, { headers: { accept: 'application/json' } });
      assert.equal(((await info.body.json()) as { messages: number }).messages, messages, channel);
    }
  });

  test('a stream closes when its JWT expires: an SSE event, WebSocket close 4401', async () => {
    const shortLived = jwt({ iss: 'alice-iss', exp: Math.floor(Date.now() / 1000) + 1 });
    const res = await request(`${gw.proxyUrl}/chat/lobby/events?access_token=${shortLived}`, { headers: { accept: 'text/event-stream' } });
    assert.equal(res.statusCode, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/chat/lobby/events?access_token=${shortLived}`);
    const wsClosed = once(ws, 'close');
    let text = '';
    for await (const chunk of res.body) text += String(chunk); // ends when the gateway closes the stream
    assert.match(text, /event: credentials_expired\ndata: \{"code":"CREDENTIALS_EXPIRED"\}\n\n$/);
    const [code, reason] = (await wsClosed) as [number, Buffer];
    assert.equal(code, 4401);
    assert.equal(String(reason), 'CREDENTIALS_EXPIRED');
  });

  test('the admin status carries nchan\'s counters', async () => {
    const status = (await (await request(`${gw.adminUrl}/status`)).body.json()) as { pubsub: { published_messages: number; channels: number; subscribers: number; slow_consumer_closes: number } };
    assert.ok(status.pubsub.published_messages >= 4, JSON.stringify(status.pubsub));
    assert.ok(status.pubsub.channels >= 3);
    assert.equal(typeof status.pubsub.subscribers, 'number');
    assert.equal(status.pubsub.slow_consumer_closes, 0);
  });

  test('the publisher is not reachable through the proxy listener', async () => {
    for (const path of ['/pub/chat%3Alobby', '/chat/lobby/../../pub/chat%3Alobby']) {
      const res = await request(`${gw.proxyUrl}${path}`, { method: 'POST', body: 'x' });
      assert.equal(res.statusCode, 404, path);
      await res.body.dump();
    }
  });
});

/** Polls channel info until `n` subscribers are counted (subscriptions open asynchronously). */
async function waitForSubscribers(url: string, n: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const res = await request(url, { headers: { accept: 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode === 200 && (JSON.parse(text) as { subscribers: number }).subscribers >= n) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never saw ${n} subscribers at ${url}`);
}
