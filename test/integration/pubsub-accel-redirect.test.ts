import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
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
        paths: ["/events", "/events-q", "/events-locked"]
        strip_path: false
consumers:
  - username: app
    keyauth_credentials: [{ key: letmein }]
routes:
  - name: room-subscriber
    internal: true
    paths: ["~/internal/sub/(?<channel>[a-z0-9-]+)$"]
    plugins:
      - name: pubsub-subscriber
        config:
          channels: ["$(uri_captures.channel)"]
          transports: [eventsource, longpoll, websocket]
  - name: locked-subscriber
    internal: true
    paths: ["~/internal/locked/(?<channel>[a-z0-9-]+)$"]
    plugins:
      - name: key-auth
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.channel)"], transports: [websocket] }
`;

/** One request the app received. */
interface Seen {
  readonly url: string;
  readonly accept: string | undefined;
  readonly upgrade: string | undefined;
  readonly key: string | undefined;
}

/**
 * The app and a gateway in front of it. The app answers every request, WebSocket upgrades
 * included (Node hands an upgrade nobody accepts to the request handler, as nchan's apps get
 * it), with 200 + `X-Accel-Redirect` to the room named by the path's last segment.
 */
async function startRedirectSetup(): Promise<{ gw: TestGateway; app: TestServer; internal: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const app = await startServer((req, res) => {
    const key = req.headers['sec-websocket-key'];
    seen.push({ url: req.url ?? '', accept: req.headers.accept, upgrade: req.headers.upgrade, key: typeof key === 'string' ? key : undefined });
    const [path = ''] = (req.url ?? '').split('?');
    const id = path.split('/').pop() ?? '';
    const target =
      id === 'missing' ? '/internal/nowhere'
      : id === 'public' ? '/events/1'
      : path.startsWith('/events-q/') ? `/internal/sub/room-${id}?tag=x`
      : path.startsWith('/events-locked/') ? `/internal/locked/room-${id}`
      : `/internal/sub/room-${id}`;
    res.writeHead(200, { 'x-accel-redirect': target, 'x-accel-buffering': 'no', 'content-type': 'text/plain' });
    res.end(`secret: room-${id}`);
  });
  const gw = await startGateway(config(app.url), {
    listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [{ host: '127.0.0.1', port: 0 }], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
  });
  return { gw, app, internal: `http://${gw.gateway.addresses.internal[0]}`, seen };
}

describe('X-Accel-Redirect to an internal pubsub-subscriber route', () => {
  let gw: TestGateway;
  let app: TestServer;
  let internal: string;
  let seen: Seen[];

  before(async () => {
    ({ gw, app, internal, seen } = await startRedirectSetup());
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

describe('X-Accel-Redirect on a WebSocket upgrade', () => {
  let gw: TestGateway;
  let app: TestServer;
  let internal: string;
  let seen: Seen[];

  before(async () => {
    ({ gw, app, internal, seen } = await startRedirectSetup());
  });
  after(async () => {
    await gw.close();
    await app.close();
  });

  const wsUrl = (path: string) => `ws://127.0.0.1:${gw.proxyPort}${path}`;

  /** Publishes and returns the new message's id (the publisher's JSON channel info). */
  async function publish(channel: string, body: string): Promise<{ status: number; id: string }> {
    const res = await request(`${internal}/pub/${encodeURIComponent(channel)}`, { method: 'POST', body, headers: { accept: 'application/json' } });
    const info = (await res.body.json()) as { last_message_id: string };
    return { status: res.statusCode, id: info.last_message_id };
  }

  /** Opens a WebSocket and collects its frames; resolves once it is open. */
  async function open(path: string): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
    const ws = new WebSocket(wsUrl(path));
    const frames: string[] = [];
    const waiting: ((frame: string) => void)[] = [];
    ws.on('message', (data) => {
      const frame = String(data);
      const waiter = waiting.shift();
      if (waiter) waiter(frame);
      else frames.push(frame);
    });
    await once(ws, 'open');
    return { ws, next: () => (frames.length > 0 ? Promise.resolve(frames.shift()!) : new Promise((resolve) => waiting.push(resolve))) };
  }

  /** A refused upgrade: the HTTP answer the client got instead of a 101. */
  async function refused(path: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
    const ws = new WebSocket(wsUrl(path));
    ws.once('error', () => undefined); // "closed before the connection was established": expected
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    let body = '';
    for await (const chunk of res) body += String(chunk);
    ws.terminate();
    return { status: res.statusCode ?? 0, headers: res.headers, body };
  }

  test('a WebSocket on /events/w1 ends up subscribed to room-w1; the app saw the upgrade request', async () => {
    const { ws, next } = await open('/events/w1');
    try {
      const published = await publish('room-w1', 'hello over ws');
      assert.equal(published.status, 201, 'the redirected WebSocket is a subscriber');
      assert.equal(await next(), 'hello over ws');
    } finally {
      ws.close();
    }
    const call = seen.find((s) => s.url === '/events/w1');
    assert.ok(call, 'the upstream saw the client request');
    assert.equal(call.upgrade, 'websocket', 'with the Upgrade header');
    assert.ok(call.key, 'and the client\'s Sec-WebSocket-Key');
  });

  test('last_event_id in the client query survives the redirect, with or without the target\'s own query', async () => {
    const first = await publish('room-w2', 'first');
    assert.equal(first.status, 202);
    await publish('room-w2', 'second');
    for (const prefix of ['/events', '/events-q']) {
      const { ws, next } = await open(`${prefix}/w2?last_event_id=${encodeURIComponent(first.id)}`);
      try {
        assert.equal(await next(), 'second', `${prefix}: resumed after ${first.id}`);
      } finally {
        ws.close();
      }
    }
    const { ws, next } = await open('/events/w2');
    try {
      assert.equal(await next(), 'first', 'without an id a new subscriber starts at the oldest message');
    } finally {
      ws.close();
    }
  });

  test('the internal route\'s plugins run on the redirected upgrade (key-auth from the kept query)', async () => {
    const denied = await refused('/events-locked/w3');
    assert.equal(denied.status, 401);
    assert.equal((JSON.parse(denied.body) as { message: string }).message, 'No API key found in request');

    const { ws, next } = await open('/events-locked/w3?apikey=letmein');
    try {
      assert.equal((await publish('room-w3', 'for the app')).status, 201);
      assert.equal(await next(), 'for the app');
    } finally {
      ws.close();
    }
  });

  test('a redirect to a path no internal route matches is a 404 over HTTP; the app\'s body never leaks', async () => {
    const missing = await refused('/events/missing');
    assert.equal(missing.status, 404);
    assert.equal((JSON.parse(missing.body) as { message: string }).message, 'no Route matched with those values');
    assert.doesNotMatch(missing.body, /secret/);
    assert.equal(missing.headers['x-accel-redirect'], undefined);
    const direct = await refused('/internal/sub/room-w1');
    assert.equal(direct.status, 404, 'the internal route is unreachable from outside');
  });
});
