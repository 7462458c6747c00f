import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { closedPort, HookServer, readUntil, waitForSubscribers } from '../helpers/hook-server.ts';
import { longPollAt } from '../helpers/streams.ts';

/**
 * nchan's hooks on a `pubsub-publisher` route: the authorize request (as for subscribers) and
 * the publisher upstream request (nchan_publisher_upstream_request). What real nchan answers is
 * in test/differential/hooks-vs-nchan.test.ts.
 */
describe('nchan hooks on publishers: authorize, publisher upstream', () => {
  const hooks = new HookServer();
  let gw: TestGateway;
  let internal: string;

  before(async () => {
    await hooks.start();
    const down = `http://127.0.0.1:${await closedPort()}/auth`;
    const config = `_format_version: "3.0"
routes:
  - name: walk
    paths: ["~/walk/(?<channel>[a-z0-9-]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.channel)"], transports: [longpoll, eventsource] }
  - name: publish
    paths: ["~/publish/(?<channels>[a-z0-9,-]+)$"]
    plugins:
      - name: pubsub-publisher
        config: { channels: ["$(uri_captures.channels)"], channel_id_split_delimiter: ",", upstream_url: "${hooks.url}/upstream" }
  - name: guarded
    paths: ["~/guarded/(?<channel>[a-z0-9-]+)$"]
    plugins:
      - name: pubsub-publisher
        config: { channels: ["$(uri_captures.channel)"], authorize_url: "${hooks.url}/auth", upstream_url: "${hooks.url}/upstream" }
  - name: guarded-down
    paths: ["/guarded-down"]
    plugins:
      - name: pubsub-publisher
        config: { channels: [down], authorize_url: "${down}" }
  - name: guarded-slow
    paths: ["/guarded-slow"]
    plugins:
      - name: pubsub-publisher
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

  /** Messages stored in a channel (0 when it does not exist). */
  async function messages(channel: string): Promise<number> {
    const res = await request(`${internal}/pub/${channel}`, { headers: { accept: 'application/json' } });
    const text = await res.body.text();
    return res.statusCode === 404 ? 0 : (JSON.parse(text) as { messages: number }).messages;
  }

  test('publisher upstream: 200 rewrites the message (body and content type), 304 keeps it, 204 drops it', async () => {
    const publish = (action: string, body: string) =>
      request(`${gw.proxyUrl}/publish/moderated`, { method: 'POST', body, headers: { 'x-action': action, 'content-type': 'text/plain', accept: 'application/json' } });

    const rewritten = await publish('rewrite', 'hello');
    assert.equal(rewritten.statusCode, 202, 'published, no subscriber yet');
    assert.equal(((await rewritten.body.json()) as { messages: number }).messages, 1);
    const call = hooks.callsTo('/upstream').at(-1)!;
    assert.equal(call.method, 'POST');
    assert.equal(call.body, 'hello');
    assert.equal(call.headers['content-type'], 'text/plain');
    assert.equal(call.headers['x-channel-id'], 'moderated');
    assert.equal(call.headers['x-original-uri'], '/publish/moderated');

    const kept = await publish('keep', 'as is');
    assert.equal(kept.statusCode, 202);
    assert.equal(((await kept.body.json()) as { messages: number }).messages, 2);

    const dropped = await publish('drop', 'spam');
    assert.equal(dropped.statusCode, 204, 'nchan answers the publisher 204');
    assert.equal(await dropped.body.text(), '');
    const info = await request(`${internal}/pub/moderated`, { headers: { accept: 'application/json' } });
    assert.equal(((await info.body.json()) as { messages: number }).messages, 2, 'the dropped message was not stored');

    // A subscriber walks the buffer (long-poll): the rewritten message, then the kept one.
    const walk1 = await longPoll('moderated');
    assert.equal(walk1.body, 'REWRITTEN(hello)');
    assert.equal(walk1.contentType, 'text/x-rewritten');
    const walk2 = await longPoll('moderated', walk1.next);
    assert.equal(walk2.body, 'as is');
    assert.equal(walk2.contentType, 'text/plain');
  });

  test('a live EventSource subscriber receives the rewritten body', async () => {
    const stream = await request(`${gw.proxyUrl}/walk/live-news`, { headers: { accept: 'text/event-stream' } });
    assert.equal(stream.statusCode, 200);
    await waitForSubscribers(`${internal}/pub/live-news`, 1);
    const received = readUntil(stream.body, /\ndata: [^\n]*\n\n/);
    const published = await request(`${gw.proxyUrl}/publish/live-news`, { method: 'POST', body: 'breaking', headers: { 'x-action': 'rewrite' } });
    assert.equal(published.statusCode, 201, 'a subscriber was listening');
    await published.body.dump();
    assert.match(await received, /\ndata: REWRITTEN\(breaking\)\n\n$/);
    stream.body.destroy();
  });

  test('multi-channel publish calls the upstream once and publishes its answer to every channel', async () => {
    const before = hooks.callsTo('/upstream').length;
    const res = await request(`${gw.proxyUrl}/publish/multi-a,multi-b`, { method: 'POST', body: 'both', headers: { 'x-action': 'rewrite' } });
    assert.equal(res.statusCode, 202);
    await res.body.dump();
    assert.equal(hooks.callsTo('/upstream').length, before + 1, 'one upstream request per publish');
    for (const channel of ['multi-a', 'multi-b']) assert.equal((await longPoll(channel)).body, 'REWRITTEN(both)', channel);
  });

  /** One long-poll answer from `channel` (a route without hooks); `next` walks on from it. */
  const longPoll = (channel: string, walk: Record<string, string> = {}) => longPollAt(`${gw.proxyUrl}/walk/${channel}`, walk);

  test('any other upstream answer is 403 (as nchan); the app\'s answer stays between it and the gateway, nothing is published', async () => {
    const refused = await request(`${gw.proxyUrl}/publish/multi-a,multi-b`, { method: 'POST', body: 'nope', headers: { 'x-action': 'refuse' } });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.headers['x-reason'], undefined);
    assert.match(String(refused.headers['content-type']), /^application\/json/);
    assert.deepEqual(await refused.body.json(), { message: 'the publisher upstream request answered 409', code: 'UPSTREAM_REFUSED' });
    assert.equal(await messages('multi-a'), 1, 'nothing published (the one message is the earlier test\'s)');
    assert.equal(await messages('multi-b'), 1);
  });

  test('authorize 2xx lets a publish in: the hook gets a GET with the publisher\'s headers, then the upstream gets the body', async () => {
    const res = await request(`${gw.proxyUrl}/guarded/news?v=1`, { method: 'POST', body: 'hi', headers: { 'x-user': 'alice', 'x-action': 'keep', 'content-type': 'text/plain' } });
    assert.equal(res.statusCode, 202);
    await res.body.dump();
    const auth = await hooks.next((call) => call.url === '/auth' && call.headers['x-original-uri'] === '/guarded/news?v=1');
    assert.equal(auth.method, 'GET');
    assert.equal(auth.body, '', 'the message is not sent to the authorize hook');
    assert.equal(auth.headers['x-channel-id'], 'news');
    assert.equal(auth.headers['x-publisher-type'], 'http');
    assert.equal(auth.headers['x-user'], 'alice');
    assert.equal(hooks.calls.indexOf(auth) + 1, hooks.calls.findIndex((call) => call.url === '/upstream' && call.body === 'hi'), 'authorize first, then the upstream request');
    assert.equal(await messages('news'), 1);
  });

  test('a non-2xx authorize answer is 403 for publish, info and delete, whatever the hook said (as nchan)', async () => {
    const upstreamCalls = hooks.callsTo('/upstream').length;
    for (const user of ['mallory', 'trudy'] as const) {
      for (const method of ['POST', 'GET', 'DELETE'] as const) {
        const res = await request(`${gw.proxyUrl}/guarded/news`, { method, ...(method === 'POST' ? { body: 'spam' } : {}), headers: { 'x-user': user, 'x-action': 'keep' } });
        assert.equal(res.statusCode, 403, `${user} ${method}`);
        assert.equal(res.headers['x-denied-by'], undefined, 'the hook\'s answer is not relayed to publishers');
        assert.equal(((await res.body.json()) as { message: string }).message, 'Forbidden');
      }
    }
    assert.equal(hooks.callsTo('/upstream').length, upstreamCalls, 'a refused message never reaches the upstream hook');
    assert.equal(await messages('news'), 1, 'nothing published, nothing deleted');
  });

  test('a CORS preflight is answered without asking the authorize hook (as nchan)', async () => {
    const asked = hooks.callsTo('/auth').length;
    const res = await request(`${gw.proxyUrl}/guarded/news`, { method: 'OPTIONS', headers: { 'x-user': 'mallory', origin: 'https://app.example' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(hooks.callsTo('/auth').length, asked);
  });

  test('an unreachable authorize hook is 502, a slow one 504 after authorize_timeout; nothing is published', async () => {
    const down = await request(`${gw.proxyUrl}/guarded-down`, { method: 'POST', body: 'x' });
    assert.equal(down.statusCode, 502);
    assert.match(((await down.body.json()) as { message: string }).message, /authorize/);

    const started = Date.now();
    const slow = await request(`${gw.proxyUrl}/guarded-slow`, { method: 'POST', body: 'x' });
    assert.equal(slow.statusCode, 504);
    assert.match(((await slow.body.json()) as { message: string }).message, /timed out/);
    assert.ok(Date.now() - started >= 140, 'answered only after the deadline');
    assert.equal(await messages('down'), 0);
    assert.equal(await messages('slow'), 0);
  });
});
