import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import WebSocket from 'ws';
import { snapshotFrom, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

/** One call the hook server received. */
interface HookCall {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * nchan's hook endpoints, as an app would implement them:
 * - /auth: 200 unless the client sent `x-user: mallory` (403 with a body and headers of its own)
 * - /slow: never answers (the gateway's deadline must fire)
 * - /sub, /unsub: presence notifications, 204
 * - /upstream: `x-action` of the publisher picks 200 (rewrite) / 304 / 204 / 409
 */
class HookServer {
  readonly calls: HookCall[] = [];
  private readonly waiters: { match: (call: HookCall) => boolean; resolve: (call: HookCall) => void }[] = [];
  private readonly stalled: ServerResponse[] = [];
  server!: TestServer;

  async start(): Promise<void> {
    this.server = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.answer({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() }, res));
    });
  }

  get url(): string {
    return this.server.url;
  }

  /** The first recorded call (past or future) that matches. */
  next(match: (call: HookCall) => boolean): Promise<HookCall> {
    const seen = this.calls.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  callsTo(path: string): HookCall[] {
    return this.calls.filter((call) => call.url === path);
  }

  async close(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    await this.server.close();
  }

  private answer(call: HookCall, res: ServerResponse): void {
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(call)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(call);
    }
    switch (call.url) {
      case '/auth':
        if (call.headers['x-user'] === 'mallory') {
          res.writeHead(403, { 'content-type': 'text/plain', 'x-denied-by': 'hook', 'www-authenticate': 'Bearer realm="chat"' });
          res.end('mallory may not listen');
        } else res.writeHead(200).end();
        return;
      case '/slow':
        this.stalled.push(res);
        return;
      case '/sub':
      case '/unsub':
        res.writeHead(204).end();
        return;
      case '/upstream':
        switch (call.headers['x-action']) {
          case 'rewrite':
            res.writeHead(200, { 'content-type': 'text/x-rewritten' }).end(`REWRITTEN(${call.body})`);
            return;
          case 'keep':
            res.writeHead(304).end();
            return;
          case 'drop':
            res.writeHead(204).end();
            return;
          default:
            res.writeHead(409, { 'content-type': 'application/json', 'x-reason': 'moderated' }).end('{"error":"not allowed"}');
            return;
        }
      default:
        res.writeHead(404).end();
    }
  }
}

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
    for (const [plugin, field] of [['pubsub-subscriber', 'authorize_url'], ['pubsub-subscriber', 'subscribe_url'], ['pubsub-subscriber', 'unsubscribe_url'], ['pubsub-publisher', 'upstream_url']]) {
      for (const bad of ['ftp://hooks.local/x', '/auth', 'http://', 'not a url'])
        assert.throws(() => snapshotFrom(route(plugin!, `${field}: "${bad}"`)), new RegExp(field!), `${plugin} ${field}=${bad}`);
      assert.doesNotThrow(() => snapshotFrom(route(plugin!, `${field}: "https://hooks.local/x"`)));
    }
    const snapshot = snapshotFrom(route('pubsub-subscriber', 'authorize_url: "http://127.0.0.1:9/auth"'));
    const config = JSON.stringify(snapshot);
    assert.match(config, /"authorize_timeout":5000/);
    assert.match(config, /"presence_timeout":5000/);
    assert.throws(() => snapshotFrom(route('pubsub-publisher', 'upstream_url: "http://h/x", upstream_timeout: 0')), /upstream_timeout/);
  });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = await startServer(() => undefined);
  await server.close();
  return server.port;
}

describe('nchan hooks: authorize, subscribe/unsubscribe, publisher upstream', () => {
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
    assert.equal(await sse.body.text(), 'mallory may not listen');

    const poll = await request(`${gw.proxyUrl}/chat/lobby`, { headers: { 'x-user': 'mallory' } });
    assert.equal(poll.statusCode, 403);
    assert.equal(await poll.body.text(), 'mallory may not listen');

    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/chat/lobby`, { headers: { 'x-user': 'mallory' } });
    const [, refused] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.headers['x-denied-by'], 'hook');
    let text = '';
    for await (const chunk of refused) text += String(chunk);
    assert.equal(text, 'mallory may not listen');
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
    await waitForSubscribers('chat:presence-poll', 1);
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
    await waitForSubscribers('live-news', 1);
    const received = readUntil(stream.body, /\ndata: [^\n]*\n\n/);
    const published = await request(`${gw.proxyUrl}/publish/live-news`, { method: 'POST', body: 'breaking', headers: { 'x-action': 'rewrite' } });
    assert.equal(published.statusCode, 201, 'a subscriber was listening');
    await published.body.dump();
    assert.match(await received, /\ndata: REWRITTEN\(breaking\)\n\n$/);
    stream.body.destroy();
  });

  test('multi-channel publish calls the upstream once and publishes its answer to every channel; other statuses are relayed', async () => {
    const before = hooks.callsTo('/upstream').length;
    const res = await request(`${gw.proxyUrl}/publish/multi-a,multi-b`, { method: 'POST', body: 'both', headers: { 'x-action': 'rewrite' } });
    assert.equal(res.statusCode, 202);
    await res.body.dump();
    assert.equal(hooks.callsTo('/upstream').length, before + 1, 'one upstream request per publish');
    for (const channel of ['multi-a', 'multi-b']) assert.equal((await longPoll(channel)).body, 'REWRITTEN(both)', channel);

    const refused = await request(`${gw.proxyUrl}/publish/multi-a,multi-b`, { method: 'POST', body: 'nope', headers: { 'x-action': 'refuse' } });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.headers['x-reason'], 'moderated');
    assert.equal(refused.headers['content-type'], 'application/json');
    assert.equal(await refused.body.text(), '{"error":"not allowed"}');
    const info = await request(`${internal}/pub/multi-a`, { headers: { accept: 'application/json' } });
    assert.equal(((await info.body.json()) as { messages: number }).messages, 1, 'nothing published');
  });

  /** One long-poll answer from `channel` (a route without hooks); `next` walks on from it. */
  async function longPoll(channel: string, walk: Record<string, string> = {}): Promise<{ body: string; contentType: string; next: Record<string, string> }> {
    const res = await request(`${gw.proxyUrl}/walk/${channel}`, { headers: walk });
    assert.equal(res.statusCode, 200);
    return {
      body: await res.body.text(),
      contentType: String(res.headers['content-type']),
      next: { 'if-modified-since': String(res.headers['last-modified']), 'if-none-match': String(res.headers.etag) },
    };
  }

  async function waitForSubscribers(channel: string, n: number): Promise<void> {
    for (let attempt = 0; attempt < 500; attempt++) {
      const res = await request(`${internal}/pub/${encodeURIComponent(channel)}`, { headers: { accept: 'application/json' } });
      const text = await res.body.text();
      if (res.statusCode === 200 && (JSON.parse(text) as { subscribers: number }).subscribers >= n) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`never saw ${n} subscribers on ${channel}`);
  }
});

/** Reads a streamed body until `pattern` matches what has arrived. */
async function readUntil(body: AsyncIterable<unknown>, pattern: RegExp): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    text += String(chunk);
    if (pattern.test(text)) return text;
  }
  throw new Error(`stream ended before ${pattern}: ${text}`);
}
