/**
 * Subscribers over HTTP/2 (`ssl http2` listener, node:http2 clients): many EventSource streams
 * on one connection, long-poll walking the buffer, interval-poll, chunked, multipart and raw
 * streams, WebSocket through HTTP/1.1 on the same port, a slow consumer bounded by h2 flow
 * control, reload re-checks and graceful drain (GOAWAY).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { ConnectionOptions } from 'node:tls';
import WebSocket from 'ws';
import { h2Request, h2Stream, startH2Gateway, type H2TestGateway } from '../helpers/h2.ts';
import { snapshotFrom } from '../helpers/gateway.ts';
import { heldStreams } from '../helpers/streams.ts';
import { testPki } from '../helpers/tls.ts';

const ROUTES = `
  - name: sub
    paths: ["~/sub/(?<ch>[a-z0-9]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [eventsource, websocket, longpoll, multipart] } }]
  - name: poll
    paths: ["~/poll/(?<ch>[a-z0-9]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [intervalpoll] } }]
  - name: chunked
    paths: ["~/chunked/(?<ch>[a-z0-9]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [chunked] } }]
  - name: slow
    paths: ["~/slow/(?<ch>[a-z0-9]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [eventsource], max_queued_messages: 5 } }]`;
const RAW_ROUTE = `
  - name: raw
    paths: ["~/raw/(?<ch>[a-z0-9]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [rawstream] } }]`;
const CONFIG = `_format_version: "3.0"\nroutes:${ROUTES}${RAW_ROUTE}\n`;

describe('subscribers over HTTP/2', () => {
  let gw: H2TestGateway;
  let session: ClientHttp2Session;
  const publish = (channel: string, data: string) => gw.gateway.hub.publish(channel, { data: Buffer.from(data) });

  before(async () => {
    gw = await startH2Gateway(CONFIG);
    session = await gw.connect();
  });
  after(() => gw.close());

  it('delivers one broadcast to 100 EventSource streams sharing one connection', async () => {
    const streams = Array.from({ length: 100 }, () => h2Stream(session, '/sub/crowd', { accept: 'text/event-stream' }));
    const heads = await Promise.all(streams.map((s) => s.head));
    assert.ok(heads.every((h) => Number(h[':status']) === 200 && h['content-type'] === 'text/event-stream; charset=utf-8'));
    await heldStreams(gw.gateway, 100);
    const { message } = await publish('crowd', 'to everyone');
    const id = `${message.id.time}:${message.id.tags[0]}`;
    await Promise.all(streams.map((s) => s.until((text) => text.includes(`id: ${id}\ndata: to everyone\n\n`))));
    for (const s of streams) s.stream.close();
    await Promise.all(streams.map((s) => s.ended));
    await heldStreams(gw.gateway, 0);
  });

  it('walks the buffer with long-poll (If-Modified-Since + If-None-Match), then waits for the next message', async () => {
    for (const data of ['first', 'second', 'third']) await publish('walk', data);
    const got: string[] = [];
    let cursor: Record<string, string> = {};
    for (let i = 0; i < 3; i++) {
      const res = await h2Request(session, '/sub/walk', cursor);
      assert.equal(res.status, 200);
      got.push(res.body);
      cursor = { 'if-modified-since': String(res.headers['last-modified']), 'if-none-match': String(res.headers.etag) };
    }
    assert.deepEqual(got, ['first', 'second', 'third']);
    const waiting = h2Request(session, '/sub/walk', cursor);
    await heldStreams(gw.gateway, 1);
    await publish('walk', 'fourth');
    const next = await waiting;
    assert.equal(next.status, 200);
    assert.equal(next.body, 'fourth');
  });

  it('answers interval-poll at once: 304 with nothing new, 200 with a message', async () => {
    assert.equal((await h2Request(session, '/poll/ivl')).status, 304);
    await publish('ivl', 'now');
    const res = await h2Request(session, '/poll/ivl');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'now');
  });

  it('streams a chunked-only route to an h2 client (h2 forbids TE: chunked), without transfer-encoding', async () => {
    const s = h2Stream(session, '/chunked/chk');
    const head = await s.head;
    assert.equal(head[':status'], 200);
    assert.equal(head['transfer-encoding'], undefined);
    await heldStreams(gw.gateway, 1);
    await publish('chk', 'piece-1');
    await publish('chk', 'piece-2');
    assert.equal(await s.until((text) => text === 'piece-1piece-2'), 'piece-1piece-2');
    s.stream.close();
    await s.ended;
  });

  it('streams multipart/mixed and raw streams', async () => {
    const multipart = h2Stream(session, '/sub/mp', { accept: 'multipart/mixed' });
    const raw = h2Stream(session, '/raw/mp');
    assert.match(String((await multipart.head)['content-type']), /^multipart\/mixed; boundary=/);
    assert.equal((await raw.head)[':status'], 200);
    await heldStreams(gw.gateway, 2);
    await publish('mp', 'both');
    await multipart.until((text) => text.includes('\r\n\r\nboth\r\n--'));
    assert.equal(await raw.until((text) => text.includes('both')), 'both\n');
    multipart.stream.close();
    raw.stream.close();
    await Promise.all([multipart.ended, raw.ended]);
  });

  it('serves a WebSocket subscriber on the same port over HTTP/1.1', async () => {
    const tlsOptions: WebSocket.ClientOptions & ConnectionOptions = { ca: testPki().ca.cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] };
    const ws = new WebSocket(`wss://127.0.0.1:${gw.proxyPort}/sub/wsch`, tlsOptions);
    await once(ws, 'open');
    assert.equal((ws as WebSocket & { _socket: { alpnProtocol: string | false } })._socket.alpnProtocol, 'http/1.1');
    const message = once(ws, 'message');
    await heldStreams(gw.gateway, 1);
    await publish('wsch', 'over wss');
    assert.equal(String((await message)[0]), 'over wss');
    ws.close();
    await once(ws, 'close');
    await heldStreams(gw.gateway, 0);
  });

  it('closes a subscriber that does not read as a slow consumer (h2 flow control), and the connection goes on', async () => {
    // A 1 KiB window and an unread stream: the gateway's writes back up, the hub queue fills.
    const stingy = await gw.connect({ settings: { initialWindowSize: 1024 } });
    const slow = stingy.request({ ':path': '/slow/flood', accept: 'text/event-stream' });
    slow.on('error', () => {});
    await once(slow, 'response');
    await heldStreams(gw.gateway, 1);
    const before = (await gw.gateway.hub.counters()).slowConsumers;
    const big = 'x'.repeat(4096);
    // 16 KiB of stream buffer, then 5 queued messages: well before 40 messages it is over.
    for (let i = 0; i < 40 && gw.gateway.openStreams > 0; i++) await publish('flood', big);
    await heldStreams(gw.gateway, 0);
    assert.equal((await gw.gateway.hub.counters()).slowConsumers, before + 1);
    // The same connection still serves other streams.
    await publish('other', 'fine');
    assert.equal((await h2Request(stingy, '/poll/other')).body, 'fine');
    stingy.destroy();
  });
});

describe('HTTP/2 streams across reloads and shutdown', () => {
  it('keeps h2 streams whose route survives a reload and ends those whose route is gone', async () => {
    const gw = await startH2Gateway(CONFIG);
    try {
      const session = await gw.connect();
      const kept = h2Stream(session, '/sub/keep', { accept: 'text/event-stream' });
      const dropped = h2Stream(session, '/raw/keep');
      await Promise.all([kept.head, dropped.head]);
      await heldStreams(gw.gateway, 2);
      const result = await gw.gateway.reload(snapshotFrom(`_format_version: "3.0"\nroutes:${ROUTES}\n`));
      assert.equal(result.kept, 1);
      assert.equal(result.closed, 1);
      await dropped.ended;
      await gw.gateway.hub.publish('keep', { data: Buffer.from('still here') });
      await kept.until((text) => text.includes('data: still here'));
      session.close();
      kept.stream.close();
    } finally {
      await gw.close();
    }
  });

  it('drains on stop: streams get their reconnect hint, the connection a GOAWAY, and stop does not wait for the drain timeout', async () => {
    const gw = await startH2Gateway(CONFIG, { drainTimeoutMs: 60_000 });
    const session = await gw.connect();
    const goaway = once(session, 'goaway');
    const streams = [1, 2, 3].map(() => h2Stream(session, '/sub/bye', { accept: 'text/event-stream' }));
    await Promise.all(streams.map((s) => s.head));
    await heldStreams(gw.gateway, 3);
    const started = performance.now();
    await gw.gateway.stop();
    assert.ok(performance.now() - started < 10_000, 'stop did not wait out the drain timeout');
    for (const s of streams) {
      await s.ended;
      assert.match(s.text(), /: HUB_CLOSED\nretry: \d+\n\n$/);
    }
    await goaway;
    await gw.close();
  });

  it('answers a long-poll waiting on an h2 connection with 503 + Retry-After when the gateway stops', async () => {
    const gw = await startH2Gateway(`_format_version: "3.0"\nroutes:${ROUTES}\n`, { drainTimeoutMs: 60_000 });
    const session = await gw.connect();
    const waiting = h2Request(session, '/sub/late');
    await heldStreams(gw.gateway, 1);
    const stopped = gw.gateway.stop();
    const res = await waiting;
    // A long-poll ended by the shutdown answers 503 with a retry hint (as on HTTP/1.1).
    assert.equal(res.status, 503);
    assert.equal((res.headers as IncomingHttpHeaders)['retry-after'], '1');
    await stopped;
    await gw.close();
  });
});
