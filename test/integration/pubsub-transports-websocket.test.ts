/**
 * The WebSocket transport, driven through a tiny real HTTP server whose `upgrade` event builds a
 * SubscriberExchange (`res` = a ServerResponse bound to the socket, for refusals before the
 * handshake). Channels come from the path (`/sub/a,b`). Frames and close codes follow real nchan
 * (test/differential/nchan-reference.test.ts).
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createHub, formatMessageId, type Hub } from '../../src/pubsub/index.ts';
import type { SubscriberOptions } from '../../src/pubsub/transports/types.ts';
import { WS_CLOSE, WS_META_PROTOCOL, websocketTransport } from '../../src/pubsub/transports/websocket.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { SUBSCRIBER_DEFAULTS, observedEngine } from '../helpers/pubsub.ts';

const OPTIONS: SubscriberOptions = SUBSCRIBER_DEFAULTS;


interface Harness {
  readonly hub: Hub;
  readonly url: (channels: string, query?: string) => string;
  /** Resolves once the next subscription to `channel` receives live messages; call before connecting. */
  subscribed(channel: string): Promise<void>;
  /** Every serve() started so far has returned. */
  idle(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: WebSocket[] = [];
after(async () => {
  for (const c of clients) c.terminate();
  await Promise.all(servers.map((s) => s.close()));
});

async function harness(options: Partial<SubscriberOptions> = {}): Promise<Harness> {
  const { engine, subscribed } = observedEngine();
  const hub = createHub({ engine });
  const serving: Promise<void>[] = [];
  const server = await startServer((_req, res) => res.writeHead(426).end());
  const sockets = new Set<Socket>();
  server.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    const channels = decodeURIComponent((req.url ?? '/').split('?')[0]!.replace(/^\/sub\//, '')).split(',');
    serving.push(
      websocketTransport.serve({
        req,
        res,
        upgrade: { socket, head },
        channels,
        hub,
        options: { ...OPTIONS, ...options },
        requestId: `req-${serving.length}`,
        writeHead: async (status, headers) => void res.writeHead(status, headers),
      }),
    );
  });
  servers.push({ ...server, close: async () => { for (const s of sockets) s.destroy(); await server.close(); } });
  return {
    hub,
    url: (channels, query = '') => `ws://127.0.0.1:${server.port}/sub/${channels}${query}`,
    subscribed,
    idle: async () => void (await Promise.all(serving)),
  };
}

interface Frame {
  binary: boolean;
  text: string;
}

interface Client {
  readonly ws: WebSocket;
  readonly frames: Frame[];
  waitFrames(count: number): Promise<Frame[]>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

async function connect(url: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, protocols, options);
  clients.push(ws);
  const frames: Frame[] = [];
  const events = new EventEmitter();
  ws.on('message', (data, isBinary) => {
    frames.push({ binary: isBinary, text: (data as Buffer).toString() });
    events.emit('frame');
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await once(ws, 'open');
  return {
    ws,
    frames,
    closed,
    waitFrames: async (count) => {
      while (frames.length < count) await once(events, 'frame');
      return frames;
    },
  };
}

/** The HTTP answer to a refused handshake. */
async function refused(url: string): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url);
  clients.push(ws);
  ws.on('error', () => undefined);
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() };
}

let seq = 0;
const channel = (label: string) => `${label}-${++seq}`;

describe('WebSocket transport', () => {
  it('sends text frames, binary for application/octet-stream, and closes 1001 "410 Gone" on delete', async () => {
    const h = await harness();
    const ch = channel('plain');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch));
    await attached;
    assert.equal(c.ws.protocol, '');
    await h.hub.publish(ch, { data: Buffer.from('hello'), contentType: 'text/plain' });
    await h.hub.publish(ch, { data: Buffer.from('bin\u0001'), contentType: 'application/octet-stream' });
    await h.hub.publish(ch, { data: Buffer.alloc(0), contentType: 'text/x-empty', eventName: 'ignored' });
    assert.deepEqual(await c.waitFrames(3), [
      { binary: false, text: 'hello' },
      { binary: true, text: 'bin\u0001' },
      { binary: false, text: '' },
    ]);
    await h.hub.delete(ch);
    assert.deepEqual(await c.closed, { code: 1001, reason: '410 Gone' });
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('frames ws+meta.nchan as "id: <id>\\ncontent-type: <ct>\\n\\n<data>", binary staying binary', async () => {
    const h = await harness();
    const ch = channel('meta');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch), ['other.v1', WS_META_PROTOCOL]);
    await attached;
    assert.equal(c.ws.protocol, WS_META_PROTOCOL);
    const ids = [];
    ids.push((await h.hub.publish(ch, { data: Buffer.from('hello'), contentType: 'text/plain' })).message.id);
    ids.push((await h.hub.publish(ch, { data: Buffer.from('bin\u0001'), contentType: 'application/octet-stream' })).message.id);
    ids.push((await h.hub.publish(ch, { data: Buffer.alloc(0), contentType: 'text/x-empty' })).message.id);
    assert.deepEqual(await c.waitFrames(3), [
      { binary: false, text: `id: ${formatMessageId(ids[0]!)}\ncontent-type: text/plain\n\nhello` },
      { binary: true, text: `id: ${formatMessageId(ids[1]!)}\ncontent-type: application/octet-stream\n\nbin\u0001` },
      { binary: false, text: `id: ${formatMessageId(ids[2]!)}\ncontent-type: text/x-empty\n\n` },
    ]);
    await h.hub.delete(ch);
    assert.deepEqual(await c.closed, { code: 1001, reason: '410 Gone' });
  });

  it('replays the buffer (first message oldest) and resumes from ?last_event_id=', async () => {
    const h = await harness();
    const ch = channel('resume');
    const ids = [];
    for (const body of ['m1', 'm2', 'm3']) ids.push((await h.hub.publish(ch, { data: Buffer.from(body), contentType: 'text/plain' })).message.id);

    const all = await connect(h.url(ch), [WS_META_PROTOCOL]);
    assert.deepEqual((await all.waitFrames(3)).map((f) => f.text.split('\n\n')[1]), ['m1', 'm2', 'm3']);
    assert.equal(all.frames[0]!.text.split('\n')[0], `id: ${formatMessageId(ids[0]!)}`);
    all.ws.close();

    const resumed = await connect(h.url(ch, `?last_event_id=${encodeURIComponent(formatMessageId(ids[0]!))}`));
    assert.deepEqual((await resumed.waitFrames(2)).map((f) => f.text), ['m2', 'm3']);
    // live messages follow the replay
    await h.hub.publish(ch, { data: Buffer.from('m4') });
    assert.deepEqual((await resumed.waitFrames(3)).map((f) => f.text), ['m2', 'm3', 'm4']);
    resumed.ws.close();
    await resumed.closed;
  });

  it('shows multiplexed ids under ws+meta.nchan and closes on deleting any channel', async () => {
    const h = await harness();
    const [a, b] = [channel('mx-a'), channel('mx-b')];
    const attached = Promise.all([h.subscribed(a), h.subscribed(b)]);
    const c = await connect(h.url(`${a},${b}`), [WS_META_PROTOCOL]);
    await attached;
    await h.hub.publish(b, { data: Buffer.from('to-b'), contentType: 'text/plain' });
    const [frame] = await c.waitFrames(1);
    assert.match(frame!.text, /^id: \d+:-,\[\d+\]\ncontent-type: text\/plain\n\nto-b$/);
    await h.hub.delete(a);
    assert.deepEqual(await c.closed, { code: 1001, reason: '410 Gone' });
  });

  it('refuses a malformed last_event_id with 400 before the upgrade', async () => {
    const h = await harness();
    const answer = await refused(h.url(channel('bad'), `?last_event_id=${encodeURIComponent(':0')}`));
    assert.equal(answer.status, 400);
    assert.equal((JSON.parse(answer.body) as { code: string }).code, 'BAD_MESSAGE_ID');
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('closes the subscription when the client closes', async () => {
    const h = await harness();
    const ch = channel('client-close');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch));
    await attached;
    assert.equal((await h.hub.counters()).subscribers, 1);
    c.ws.close(1000, 'bye');
    await c.closed;
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('closes a slow consumer with 1008 SLOW_CONSUMER', async () => {
    const h = await harness({ limits: { maxQueuedMessages: 4, maxQueuedBytes: 64 * 1024 * 1024 } });
    const ch = channel('slow');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch));
    await attached;
    c.ws.pause(); // stop reading: the server's socket backs up, then the hub's queue
    const big = Buffer.alloc(512 * 1024, 'x');
    let published = 0;
    while ((await h.hub.counters()).slowConsumers === 0) {
      assert.ok(published < 400, 'the consumer was never found slow');
      await h.hub.publish(ch, { data: big, contentType: 'text/plain' });
      published++;
    }
    c.ws.resume();
    const closed = await c.closed;
    assert.deepEqual(closed, { code: WS_CLOSE.SLOW_CONSUMER.code, reason: 'SLOW_CONSUMER' });
    assert.equal(closed.code, 1008);
    // what was sent before the end arrived whole and in order
    assert.ok(c.frames.length < published);
    assert.ok(c.frames.every((f) => f.text.length === big.length));
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('resumes delivery after backpressure without losing messages', async () => {
    const h = await harness();
    const ch = channel('drain');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch));
    await attached;
    const count = 24; // 24 × 512 KiB: well past the high-water mark
    for (let i = 0; i < count; i++) await h.hub.publish(ch, { data: Buffer.alloc(512 * 1024, String.fromCharCode(97 + (i % 26))) });
    const frames = await c.waitFrames(count);
    assert.deepEqual(frames.map((f) => f.text[0]), Array.from({ length: count }, (_, i) => String.fromCharCode(97 + (i % 26))));
    assert.equal((await h.hub.counters()).slowConsumers, 0);
    c.ws.close();
    await c.closed;
  });

  it('closes with 1012 when the hub shuts down', async () => {
    const h = await harness();
    const ch = channel('shutdown');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch));
    await attached;
    await h.hub.close();
    assert.deepEqual(await c.closed, { code: 1012, reason: WS_CLOSE.HUB_CLOSED.reason });
  });

  it('sends PING frames every websocketPingInterval and drops a client that does not answer', async () => {
    const h = await harness({ websocketPingInterval: 0.05 });
    const ch = channel('ping');
    const attached = h.subscribed(ch);
    const c = await connect(h.url(ch));
    await attached;
    await once(c.ws, 'ping');
    await once(c.ws, 'ping'); // answered (auto pong), so still open
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.ws.close();
    await c.closed;

    const ch2 = channel('no-pong');
    const attached2 = h.subscribed(ch2);
    const silent = await connect(h.url(ch2), [], { autoPong: false });
    await attached2;
    await once(silent.ws, 'ping');
    assert.equal((await silent.closed).code, 1006); // terminated, no close frame
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });
});
