/**
 * An open HTTP/1.1 subscriber stream keeps its socket and subscription, not its request: once
 * the head is out, Node's `req`/`res` (and with them the request context, plugin run and PDK)
 * become collectable, while the stream still delivers, the log phase still runs when it ends,
 * and a reload still re-checks it. Proved with WeakRefs on the objects Node's server created
 * (diagnostics channel `http.server.request.start`) and a forced GC.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Pdk } from '../../src/plugins/pdk/types.ts';
import { startGateway, snapshotFrom, type TestGateway } from '../helpers/gateway.ts';
import { heldStreams } from '../helpers/streams.ts';
import { noConfigPlugin, registryWithTestPlugins } from '../helpers/test-plugins.ts';
import { collected } from '../helpers/gc.ts';


/** What the `logged` plugin saw in its log phase: the status and the request path. */
const logged: { status: number; path: string }[] = [];
const loggedPlugin = noConfigPlugin('logged', {
  PRIORITY: 5,
  log(kong: Pdk) {
    logged.push({ status: kong.response.getStatus(), path: kong.request.getPath() });
  },
});

/** The headers the `seen` plugin read, on the request and again on each re-check. */
const seenHeaders: Readonly<Record<string, unknown>>[] = [];
const seenPlugin = noConfigPlugin('seen', {
  PRIORITY: 6,
  recheck: true,
  access(kong: Pdk) {
    seenHeaders.push({ ...kong.request.getHeaders() });
  },
});

function yaml(channel: string): string {
  return `_format_version: "3.0"
routes:
  - name: sub
    paths: ["~/sub/(?<id>[^/]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["${channel}"], transports: [eventsource] }
  - name: logged-sub
    paths: ["~/logged/(?<id>[^/]+)$"]
    plugins:
      - name: logged
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.id)"], transports: [eventsource] }
  - name: seen-sub
    paths: ["~/seen/(?<id>[^/]+)$"]
    headers: { x-route: ["yes"] }
    plugins:
      - name: seen
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.id)"], transports: [eventsource] }
`;
}

/** A raw SSE request; `text` grows as bytes arrive. */
function rawSse(port: number, path: string, extraHeaders = ''): { socket: Socket; text: () => string; until: (ok: (t: string) => boolean) => Promise<void>; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const wake of waiters.splice(0)) wake();
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n${extraHeaders}\r\n`);
  const closed = once(socket, 'close').then(() => undefined);
  const until = async (ok: (t: string) => boolean): Promise<void> => {
    while (!ok(text)) {
      const more = new Promise<void>((resolve) => waiters.push(resolve));
      await Promise.race([more, closed]);
      if (socket.destroyed && !ok(text)) throw new Error(`closed before expected bytes: ${JSON.stringify(text)}`);
    }
  };
  return { socket, text: () => text, until, closed };
}

describe('an open subscriber stream lets its request go', () => {
  let gw: TestGateway;
  let refs: WeakRef<object>[] = [];
  const onRequest = (message: unknown): void => {
    const { request, response } = message as { request: object; response: object };
    refs.push(new WeakRef(request), new WeakRef(response));
  };

  before(async () => {
    subscribe('http.server.request.start', onRequest);
    gw = await startGateway(yaml('news'), { registry: registryWithTestPlugins(loggedPlugin, seenPlugin) });
  });
  after(async () => {
    unsubscribe('http.server.request.start', onRequest);
    await gw.close();
  });

  it('collects req and res of an open idle SSE stream, which still delivers and re-checks on reload', async () => {
    refs = [];
    const client = rawSse(gw.proxyPort, '/sub/a');
    await client.until((t) => t.includes(': hi'));
    await heldStreams(gw.gateway, 1);
    assert.equal(refs.length, 2);
    assert.equal(await collected(refs), 0, 'the open stream still holds its IncomingMessage/ServerResponse');

    await gw.gateway.hub.publish('news', { data: Buffer.from('still here') });
    await client.until((t) => t.includes('data: still here\n\n'));
    // The re-check runs from the recorded request: a reload that changes the channels closes it.
    const summary = await gw.gateway.reload(snapshotFrom(yaml('other'), registryWithTestPlugins(loggedPlugin, seenPlugin)));
    assert.equal(summary.closed, 1);
    await client.closed;
    assert.match(client.text(), /retry: \d+\n/);
    assert.equal(gw.gateway.openStreams, 0);
  });

  it('lets go of everything once the client goes away: the socket, its subscription, its end', async () => {
    const sockets: WeakRef<object>[] = [];
    const onSocket = (message: unknown): void => void sockets.push(new WeakRef((message as { request: { socket: object } }).request.socket));
    subscribe('http.server.request.start', onSocket);
    try {
      const client = rawSse(gw.proxyPort, '/logged/gone');
      await client.until((t) => t.includes(': hi'));
      await heldStreams(gw.gateway, 1);
      assert.equal(sockets.length, 1);
      logged.length = 0;
      client.socket.end();
      await client.closed;
      for (let turn = 0; logged.length === 0 && turn < 10_000; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal((await gw.gateway.hub.counters()).subscribers, 0);
      // Neither the drain's set of taken-over sockets nor a listener or feed still holds it.
      assert.equal(await collected(sockets), 0, 'the closed stream\'s socket is still held');
    } finally {
      unsubscribe('http.server.request.start', onSocket);
    }
  });

  it('runs a plugin\'s log phase when the stream ends, not when the request is let go', async () => {
    logged.length = 0;
    const client = rawSse(gw.proxyPort, '/logged/b');
    await client.until((t) => t.includes(': hi'));
    await heldStreams(gw.gateway, 1);
    assert.deepEqual(logged, []);
    client.socket.end();
    await client.closed;
    for (let turn = 0; logged.length === 0 && turn < 10_000; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(logged, [{ status: 200, path: '/logged/b' }]);
  });

  it('re-checks with the request headers it was opened with: the router matches them, plugins see every value', async () => {
    seenHeaders.length = 0;
    const dup = 'X-Route: yes\r\nX-Tenant: a\r\nx-tenant: b\r\nCookie: k=1\r\ncookie: l=2\r\nSet-Cookie: s1\r\nset-cookie: s2\r\nContent-Type: one\r\ncontent-type: two\r\n';
    const client = rawSse(gw.proxyPort, '/seen/c', dup);
    await client.until((t) => t.includes(': hi'));
    await heldStreams(gw.gateway, 1);
    assert.equal(seenHeaders.length, 1);
    assert.deepEqual(seenHeaders[0]?.['x-tenant'], ['a', 'b']);
    assert.deepEqual(seenHeaders[0]?.['cookie'], ['k=1', 'l=2']);
    const summary = await gw.gateway.reload(snapshotFrom(yaml('news'), registryWithTestPlugins(loggedPlugin, seenPlugin)));
    // Routed again by its `x-route` header (rebuilt from the raw ones): still this route, kept.
    assert.deepEqual({ kept: summary.kept, closed: summary.closed }, { kept: 1, closed: 0 });
    assert.equal(seenHeaders.length, 2);
    assert.deepEqual(seenHeaders[1], seenHeaders[0]);
    client.socket.end();
    await client.closed;
  });
});
