import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'undici';
import { EventSource } from 'eventsource';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

/**
 * nchan's X-Accel-Redirect: the application upstream picks the channel, the gateway serves the
 * client's own request on an internal subscriber route, and the channel id never reaches the
 * client.
 */
const config = (upstream: string) => `_format_version: "3.0"
services:
  - name: app
    url: ${upstream}
    routes:
      - name: events
        paths: ["/events", "/events-q"]
        strip_path: false
routes:
  - name: room-subscriber
    internal: true
    paths: ["~/internal/sub/(?<channel>[a-z0-9-]+)$"]
    plugins:
      - name: pubsub-subscriber
        config:
          channels: ["$(uri_captures.channel)"]
          transports: [eventsource, longpoll]
`;

describe('X-Accel-Redirect to an internal pubsub-subscriber route', () => {
  let gw: TestGateway;
  let app: TestServer;
  let internal: string;
  const seen: { url: string; accept: string | undefined }[] = [];

  before(async () => {
    app = await startServer((req, res) => {
      seen.push({ url: req.url ?? '', accept: req.headers.accept });
      const [path = ''] = (req.url ?? '').split('?');
      const id = path.split('/').pop() ?? '';
      const target =
        id === 'missing' ? '/internal/nowhere'
        : id === 'public' ? '/events/1'
        : path.startsWith('/events-q/') ? `/internal/sub/room-${id}?tag=x`
        : `/internal/sub/room-${id}`;
      res.writeHead(200, { 'x-accel-redirect': target, 'content-type': 'text/plain' });
      res.end(`secret: room-${id}`);
    });
    gw = await startGateway(config(app.url), {
      listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [{ host: '127.0.0.1', port: 0 }], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
    });
    internal = `http://${gw.gateway.addresses.internal[0]}`;
  });
  after(async () => {
    await gw.close();
    await app.close();
  });

  const publish = (channel: string, body: string) => request(`${internal}/pub/${encodeURIComponent(channel)}`, { method: 'POST', body });

  test('an EventSource on /events/1 receives what is published to room-1', async () => {
    const source = new EventSource(`${gw.proxyUrl}/events/1`);
    try {
      await once(source as unknown as EventTarget as never, 'open');
      const received = new Promise<MessageEvent>((resolve) => source.addEventListener('message', resolve, { once: true }));
      const published = await publish('room-1', 'hello room 1');
      assert.equal(published.statusCode, 201, 'a subscriber is listening');
      await published.body.dump();
      assert.equal((await received).data, 'hello room 1');
    } finally {
      source.close();
    }
    const call = seen.find((s) => s.url === '/events/1');
    assert.ok(call, 'the upstream saw the client request');
    assert.equal(call.accept, 'text/event-stream', 'with the client headers');
  });

  test('internal routes are unreachable from outside', async () => {
    for (const path of ['/internal/sub/room-1', '/internal/sub/room-1?last_event_id=0:0']) {
      const res = await request(`${gw.proxyUrl}${path}`, { headers: { accept: 'text/event-stream' } });
      assert.equal(res.statusCode, 404, path);
      assert.equal(((await res.body.json()) as { message: string }).message, 'no Route matched with those values');
    }
  });

  test('a redirect to a path no internal route matches is a 404, and the upstream body never leaks', async () => {
    for (const path of ['/events/missing', '/events/public']) {
      const res = await request(`${gw.proxyUrl}${path}`);
      assert.equal(res.statusCode, 404, path);
      assert.match(String(res.headers['content-type']), /json/);
      const text = await res.body.text();
      assert.doesNotMatch(text, /secret/);
      assert.equal(res.headers['x-accel-redirect'], undefined);
    }
  });

  test('last_event_id in the client query survives the redirect (with or without the target\'s own query)', async () => {
    for (const body of ['first', 'second']) {
      const res = await publish('room-2', body);
      assert.equal(res.statusCode, 202);
      await res.body.dump();
    }
    const source = new EventSource(`${gw.proxyUrl}/events/2`);
    let firstId: string;
    try {
      const event = await new Promise<MessageEvent>((resolve) => source.addEventListener('message', resolve, { once: true }));
      assert.equal(event.data, 'first', 'a new subscriber starts at the oldest message');
      firstId = event.lastEventId;
    } finally {
      source.close();
    }
    for (const prefix of ['/events', '/events-q']) {
      const res = await request(`${gw.proxyUrl}${prefix}/2?last_event_id=${encodeURIComponent(firstId)}`);
      assert.equal(res.statusCode, 200, prefix);
      assert.equal(await res.body.text(), 'second', `${prefix}: resumed after ${firstId}`);
    }
    assert.ok(seen.some((s) => s.url === `/events-q/2?last_event_id=${encodeURIComponent(firstId)}`), 'the upstream saw the client query');
  });
});
