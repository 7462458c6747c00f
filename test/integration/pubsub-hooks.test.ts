import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
import WebSocket from 'ws';
import { snapshotFrom, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { closedPort, HookServer, waitForSubscribers } from '../helpers/hook-server.ts';

describe('hook config', () => {
  const route = (plugin: string, config: string) => `_format_version: "3.0"
routes:
  - name: r
    paths: ["/r"]
    plugins:
      - name: ${plugin}
        config: { channels: [c], ${config} }
`;

  test('hook URLs must be absolute http(s) URLs; timeouts default to 5000 ms', () => {
    const fields = [['pubsub-subscriber', 'authorize_url'], ['pubsub-subscriber', 'subscribe_url'], ['pubsub-subscriber', 'unsubscribe_url'], ['pubsub-publisher', 'authorize_url'], ['pubsub-publisher', 'upstream_url']];
    for (const [plugin, field] of fields) {
      for (const bad of ['ftp://hooks.local/x', '/auth', 'http://', 'not a url'])
        assert.throws(() => snapshotFrom(route(plugin!, `${field}: "${bad}"`)), new RegExp(field!), `${plugin} ${field}=${bad}`);
      assert.doesNotThrow(() => snapshotFrom(route(plugin!, `${field}: "https://hooks.local/x"`)));
    }
    const snapshot = snapshotFrom(route('pubsub-subscriber', 'authorize_url: "http://127.0.0.1:9/auth"'));
    const config = JSON.stringify(snapshot);
    assert.match(config, /"authorize_timeout":5000/);
    assert.match(config, /"presence_timeout":5000/);
    assert.throws(() => snapshotFrom(route('pubsub-publisher', 'upstream_url: "http://h/x", upstream_timeout: 0')), /upstream_timeout/);
    assert.match(JSON.stringify(snapshotFrom(route('pubsub-publisher', 'authorize_url: "http://127.0.0.1:9/auth"'))), /"authorize_timeout":5000/);
    assert.throws(() => snapshotFrom(route('pubsub-publisher', 'authorize_url: "http://h/x", authorize_timeout: 0')), /authorize_timeout/);
  });
});

describe('nchan hooks on subscribers: authorize, subscribe/unsubscribe', () => {
  const hooks = new HookServer();
  let gw: TestGateway;
  let internal: string;

  before(async () => {
    await hooks.start();
    const down = `http://127.0.0.1:${await closedPort()}/auth`;
    const config = `_format_version: "3.0"
routes:
  - name: chat
    paths: ["~/chat/(?<room>[a-z0-9-]+)$"]
    plugins:
      - name: pubsub-subscriber
        config:
          channels: ["chat:$(uri_captures.room)"]
          transports: [eventsource, websocket, longpoll]
          authorize_url: ${hooks.url}/auth
          subscribe_url: ${hooks.url}/sub
          unsubscribe_url: ${hooks.url}/unsub
  - name: down
    paths: ["/down"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: [down], authorize_url: "${down}" }
  - name: slow
    paths: ["/slow"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: [slow], authorize_url: "${hooks.url}/slow", authorize_timeout: 150 }
`;
    gw = await startGateway(config, {
      listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [{ host: '127.0.0.1', port: 0 }], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
    });
    internal = `http://${gw.gateway.addresses.internal[0]}`;
  });
  after(async () => {
    await gw?.close();
    await hooks.close();
  });

  const publishInternal = (channel: string, body: string) => request(`${internal}/pub/${encodeURIComponent(channel)}`, { method: 'POST', body });

  test('authorize 2xx lets an EventSource subscriber in; the hook sees GET, client headers, X-Original-URI, X-Channel-Id', async () => {
    const res = await request(`${gw.proxyUrl}/chat/lobby?token=abc`, { headers: { accept: 'text/event-stream', 'x-user': 'alice', cookie: 'session=1', 'x-channel-id': 'forged' } });
    try {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      const auth = await hooks.next((call) => call.url === '/auth' && call.headers['x-user'] === 'alice');
      assert.equal(auth.method, 'GET');
      assert.equal(auth.headers['x-original-uri'], '/chat/lobby?token=abc');
      assert.equal(auth.headers['x-channel-id'], 'chat:lobby', 'the gateway\'s value, not the client\'s');
      assert.equal(auth.headers['x-subscriber-type'], 'eventsource');
      assert.equal(auth.headers.cookie, 'session=1');
      assert.equal(auth.headers.accept, 'text/event-stream');
      assert.equal(auth.headers.host, `127.0.0.1:${hooks.server.port}`, 'Host is the hook\'s, not the client\'s');
    } finally {
      res.body.destroy();
    }
  });

  test('a non-2xx authorize answer goes back to the client as it is: status, headers, body (EventSource, long-poll, WebSocket)', async () => {
    const sse = await request(`${gw.proxyUrl}/chat/lobby`, { headers: { accept: 'text/event-stream', 'x-user': 'mallory' } });
    assert.equal(sse.statusCode, 403);
    assert.equal(sse.headers['x-denied-by'], 'hook');
    assert.equal(sse.headers['www-authenticate'], 'Bearer realm="chat"');
    assert.equal(sse.headers['content-type'], 'text/plain');
    assert.equal(await sse.body.text(), 'mallory may not come in');

    const poll = await request(`${gw.proxyUrl}/chat/lobby`, { headers: { 'x-user': 'mallory' } });
    assert.equal(poll.statusCode, 403);
    assert.equal(await poll.body.text(), 'mallory may not come in');

    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/chat/lobby`, { headers: { 'x-user': 'mallory' } });
    const [, refused] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.headers['x-denied-by'], 'hook');
    let text = '';
    for await (const chunk of refused) text += String(chunk);
    assert.equal(text, 'mallory may not come in');
    ws.once('error', () => undefined); // "closed before the connection was established": expected
    ws.terminate();
  });

  test('an unreachable authorize hook is 502, a slow one 504 after authorize_timeout', async () => {
    const down = await request(`${gw.proxyUrl}/down`, { headers: { accept: 'text/event-stream' } });
    assert.equal(down.statusCode, 502);
    assert.match(((await down.body.json()) as { message: string }).message, /authorize/);

    const started = Date.now();
    const slow = await request(`${gw.proxyUrl}/slow`, { headers: { accept: 'text/event-stream' } });
    assert.equal(slow.statusCode, 504);
    assert.match(((await slow.body.json()) as { message: string }).message, /timed out/);
    assert.ok(Date.now() - started >= 140, 'answered only after the deadline');
    assert.equal(hooks.callsTo('/slow').length, 1, 'the slow hook was asked');
  });

  test('subscribe / unsubscribe notifications arrive when a stream starts and ends; long-poll sends none', async () => {
    // A long-poll first: authorized, but no presence hooks (nchan disables them for polling).
    const poll = request(`${gw.proxyUrl}/chat/presence-poll`, { headers: { 'x-user': 'carol' } });
    await hooks.next((call) => call.url === '/auth' && call.headers['x-user'] === 'carol');
    await waitForSubscribers(`${internal}/pub/chat%3Apresence-poll`, 1);
    (await publishInternal('chat:presence-poll', 'wake up')).body.dump();
    const polled = await poll;
    assert.equal(await polled.body.text(), 'wake up');

    const stream = await request(`${gw.proxyUrl}/chat/presence`, { headers: { accept: 'text/event-stream', 'x-user': 'bob' } });
    assert.equal(stream.statusCode, 200);
    const subscribed = await hooks.next((call) => call.url === '/sub' && call.headers['x-user'] === 'bob');
    assert.equal(subscribed.method, 'GET');
    assert.equal(subscribed.headers['x-channel-id'], 'chat:presence');
    assert.equal(subscribed.headers['x-subscriber-type'], 'eventsource');
    assert.equal(hooks.callsTo('/unsub').filter((call) => call.headers['x-user'] === 'bob').length, 0, 'still subscribed');

    const unsubscribed = hooks.next((call) => call.url === '/unsub' && call.headers['x-user'] === 'bob');
    stream.body.destroy(); // the client goes away
    assert.equal((await unsubscribed).headers['x-channel-id'], 'chat:presence');

    assert.deepEqual(
      hooks.calls.filter((call) => (call.url === '/sub' || call.url === '/unsub') && call.headers['x-user'] === 'carol'),
      [],
      'no presence hooks for long-poll',
    );
  });

  test('a WebSocket subscriber sends subscribe on open and unsubscribe on close', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/chat/ws-room`, { headers: { 'x-user': 'dave' } });
    await once(ws, 'open');
    const subscribed = await hooks.next((call) => call.url === '/sub' && call.headers['x-user'] === 'dave');
    assert.equal(subscribed.headers['x-subscriber-type'], 'websocket');
    assert.equal(subscribed.headers.upgrade, undefined, 'hop-by-hop headers are not forwarded');
    const unsubscribed = hooks.next((call) => call.url === '/unsub' && call.headers['x-user'] === 'dave');
    ws.close();
    assert.equal((await unsubscribed).headers['x-channel-id'], 'chat:ws-room');
  });
});
