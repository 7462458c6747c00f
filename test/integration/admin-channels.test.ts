import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'undici';
import WebSocket from 'ws';
import { startGatewayWithInternal, type TestGateway } from '../helpers/gateway.ts';
import { admin, waitForAdmin } from '../helpers/admin-requests.ts';

const CONFIG = `_format_version: "3.0"
channels:
  - name: rooms
    match: "room:*"
    events_channel: rooms
routes:
  - name: events
    paths: ["~/events/(?<ch>[^/]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.ch)"], transports: [eventsource, websocket, longpoll] }
`;

interface Item {
  id: string;
  messages: number;
  subscribers: number;
  last_message_id: string | null;
  requested: number;
}
interface Page {
  data: Item[];
  next: string | null;
  offset?: string;
}
interface KongError {
  message: string;
  name?: string;
  code?: number;
}

describe('Admin API: /channels', () => {
  let gw: TestGateway;
  let internal: string;

  before(async () => {
    const started = await startGatewayWithInternal(CONFIG);
    gw = started;
    internal = started.internalUrl;
    // room:* channels send their events to meta/rooms.
    for (const [channel, times] of [['room:b', 2], ['room:a', 1], ['news/world', 3], ['news/local', 1], ['zzz', 1]] as const) {
      for (let i = 0; i < times; i++) await (await request(`${internal}/pub/${encodeURIComponent(channel)}`, { method: 'POST', body: `m${i}` })).body.dump();
    }
  });
  after(() => gw.close());

  test('GET /channels lists every channel but meta/ ones, ascending, in Kong\'s envelope', async () => {
    const { status, headers, body } = await admin<Page>(gw.adminUrl, '/channels');
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.deepEqual(body.data.map((c) => c.id), ['news/local', 'news/world', 'room:a', 'room:b', 'zzz']);
    assert.equal(body.next, null);
    assert.equal(body.offset, undefined);
    const world = body.data[1] as Item;
    assert.deepEqual(Object.keys(world).sort(), ['id', 'last_message_id', 'messages', 'requested', 'subscribers']);
    assert.equal(world.messages, 3);
    assert.equal(world.subscribers, 0);
    assert.equal(world.requested, -1, 'never requested by a subscriber');
    assert.match(world.last_message_id ?? '', /^\d+:2$/);
  });

  test('pages of `size` follow `next` to the end; size and prefix are carried along', async () => {
    const seen: string[] = [];
    let path: string | null = '/channels?size=2';
    let pages = 0;
    while (path !== null) {
      const { status, body }: { status: number; body: Page } = await admin<Page>(gw.adminUrl, path);
      assert.equal(status, 200, path);
      assert.ok(body.data.length <= 2);
      seen.push(...body.data.map((c) => c.id));
      if (body.next !== null) {
        assert.match(body.next, /^\/channels\?offset=[A-Za-z0-9_-]+&size=2$/);
        assert.ok(body.next.includes(`offset=${body.offset}`));
      }
      path = body.next;
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['news/local', 'news/world', 'room:a', 'room:b', 'zzz']);

    const first = await admin<Page>(gw.adminUrl, '/channels?prefix=news%2F&size=1');
    assert.deepEqual(first.body.data.map((c) => c.id), ['news/local']);
    assert.match(first.body.next ?? '', /&size=1&prefix=news%2F$/);
    const second = await admin<Page>(gw.adminUrl, first.body.next ?? '');
    assert.deepEqual(second.body.data.map((c) => c.id), ['news/world']);
    assert.equal(second.body.next, null);
  });

  test('meta/ channels are listed when the prefix asks for them', async () => {
    const meta = await admin<Page>(gw.adminUrl, '/channels?prefix=meta');
    assert.deepEqual(meta.body.data.map((c) => c.id), ['meta/rooms']);
    assert.equal((meta.body.data[0] as Item).messages, 3, 'channel_publish events of room:a and room:b');
    const none = await admin<Page>(gw.adminUrl, '/channels?prefix=nothing');
    assert.deepEqual(none.body, { data: [], next: null });
  });

  test('GET /channels/{id}: URL-encoded ids (a / as %2F); 404 Kong-shaped when unknown', async () => {
    const { status, body } = await admin<Item>(gw.adminUrl, '/channels/news%2Fworld');
    assert.equal(status, 200);
    assert.equal(body.id, 'news/world');
    assert.equal(body.messages, 3);
    assert.equal((await admin<Item>(gw.adminUrl, '/channels/room%3Aa')).body.id, 'room:a');
    for (const path of ['/channels/no%20such', '/channels/news/world']) {
      const missing = await admin<KongError>(gw.adminUrl, path);
      assert.equal(missing.status, 404, path);
      assert.deepEqual(missing.body, { message: 'Not found' });
    }
  });

  test('DELETE /channels/{id} closes its subscribers on every transport with 410 and answers the channel as it was', async () => {
    const channel = 'doomed-1';
    const path = `/events/${encodeURIComponent(channel)}`;
    const sse = await request(`${gw.proxyUrl}${path}`, { headers: { accept: 'text/event-stream' } });
    assert.equal(sse.statusCode, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}${path}`);
    await once(ws, 'open');
    const wsClosed = once(ws, 'close');
    const poll = request(`${gw.proxyUrl}${path}`);
    await waitForAdmin<Item>(gw.adminUrl, `/channels/${encodeURIComponent(channel)}`, (a) => a.body.subscribers === 3);

    const deleted = await admin<Item>(gw.adminUrl, `/channels/${encodeURIComponent(channel)}`, 'DELETE');
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.id, channel);
    assert.equal(deleted.body.subscribers, 3, 'how many subscribers were closed');
    assert.equal(deleted.body.last_message_id, null, 'nothing was ever published');

    assert.match(await sse.body.text(), /:410: 410 Gone\n\n$/);
    const [code, reason] = (await wsClosed) as [number, Buffer];
    assert.deepEqual([code, String(reason)], [1001, '410 Gone']);
    const polled = await poll;
    assert.equal(polled.statusCode, 410);
    await polled.body.dump();

    assert.equal((await admin(gw.adminUrl, `/channels/${encodeURIComponent(channel)}`)).status, 404);
    assert.equal((await admin(gw.adminUrl, `/channels/${encodeURIComponent(channel)}`, 'DELETE')).status, 404);
  });

  test('bad input: size, offset, encoding and methods get Kong-shaped 4xx answers', async () => {
    for (const [size, message] of [['0', 'size must be an integer between 1 and 1000'], ['1001', 'size must be an integer between 1 and 1000'], ['1.5', 'size must be an integer between 1 and 1000'], ['-1', 'size must be an integer between 1 and 1000'], ['abc', 'size must be a number'], ['', 'size must be a number']]) {
      const { status, body } = await admin<KongError>(gw.adminUrl, `/channels?size=${size}`);
      assert.equal(status, 400, `size=${size}`);
      assert.deepEqual(body, { code: 9, name: 'invalid size', message }, `size=${size}`);
    }
    const entityOffset = Buffer.from(JSON.stringify([2])).toString('base64url');
    for (const [offset, reason] of [['garbage!', 'bad base64 encoding'], ['%FF', 'bad base64 encoding'], [Buffer.from('chat:1').toString('base64url'), 'bad offset'], [entityOffset, 'bad offset']]) {
      const { status, body } = await admin<KongError>(gw.adminUrl, `/channels?offset=${offset}`);
      assert.equal(status, 400, `offset=${offset}`);
      assert.equal(body.code, 7);
      assert.equal(body.name, 'invalid offset');
      assert.match(body.message, new RegExp(`is not a valid offset: ${reason}$`));
    }
    assert.equal((await admin(gw.adminUrl, '/channels/%E0%A4%A')).status, 404, 'a malformed escape names no channel');
    for (const [method, path] of [['POST', '/channels'], ['PUT', '/channels/x'], ['PATCH', '/channels/x']] as const) {
      const { status, body } = await admin<KongError>(gw.adminUrl, path, method);
      assert.equal(status, 405, `${method} ${path}`);
      assert.deepEqual(body, { message: 'Method not allowed' });
    }
    const slash = await admin<Page>(gw.adminUrl, '/channels/');
    assert.equal(slash.status, 200, 'a trailing slash is the list, as everywhere in the Admin API');
    assert.equal(slash.body.data.length, 5);
  });
});
