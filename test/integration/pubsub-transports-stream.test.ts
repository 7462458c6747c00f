/**
 * The streaming transports (EventSource, chunked, multipart, raw stream) through a real HTTP
 * server on port 0 and real clients: the `eventsource` package, node:http streams and raw sockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { EventSource } from 'eventsource';
import { createHub, createMemoryEngine, type Hub } from '../../src/pubsub/index.ts';
import { chunkedTransport } from '../../src/pubsub/transports/chunked.ts';
import { detachedStreamCount } from '../../src/pubsub/transports/detach.ts';
import { directWritesAvailable } from '../../src/pubsub/transports/direct-write.ts';
import { eventsourceTransport, RECONNECT_RETRY_MS } from '../../src/pubsub/transports/eventsource.ts';
import { multipartTransport } from '../../src/pubsub/transports/multipart.ts';
import { rawstreamTransport } from '../../src/pubsub/transports/rawstream.ts';
import { selectTransport } from '../../src/pubsub/transports/select.ts';
import type { SubscriberOptions, Transport } from '../../src/pubsub/transports/types.ts';
import { http, openStream, parseSse, type Stream } from '../differential/observe.ts';
import { SUBSCRIBER_DEFAULTS } from '../helpers/pubsub.ts';

const OPTIONS: SubscriberOptions = SUBSCRIBER_DEFAULTS;

interface Harness {
  readonly hub: Hub;
  readonly base: string;
  readonly port: number;
  /** serve() promises, resolved once a subscriber is fully released */
  readonly served: Promise<void>[];
  publish(channel: string, data: string, extra?: { eventName?: string; contentType?: string }): Promise<string>;
  close(): Promise<void>;
}

/** GET /sub/<a,b,…>: channels from the path, served by `transport`. */
async function harness(transport: Transport, options: Partial<SubscriberOptions> = {}): Promise<Harness> {
  const hub = createHub({ engine: createMemoryEngine() });
  const served: Promise<void>[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const channels = path.replace(/^\/sub\//, '').split(',');
    served.push(transport.serve({
      req, res, hub, channels, options: { ...OPTIONS, ...options }, requestId: 'test',
      writeHead: async (status, headers) => void res.writeHead(status, headers),
    }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    hub, port, served, base: `http://127.0.0.1:${port}`,
    publish: async (channel, data, extra = {}) => {
      const { message } = await hub.publish(channel, { data: Buffer.from(data), ...extra });
      return `${message.id.time}:${message.id.tags[0]}`;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await hub.close();
    },
  };
}

/** A raw HTTP/1.1 GET on a socket; `paused` leaves the response unread. */
function rawGet(port: number, path: string, headers: Record<string, string> = {}, request = 'GET %s HTTP/1.1') {
  const socket: Socket = connect(port, '127.0.0.1');
  let text = '';
  const waiters = new Set<() => void>();
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    resolve();
    for (const w of waiters) w();
  }));
  socket.on('error', () => {});
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    for (const w of waiters) w();
  });
  socket.write(`${request.replace('%s', path)}\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  return {
    socket,
    closed,
    text: () => text,
    until: (predicate: (t: string) => boolean, timeoutMs = 5000) => new Promise<string>((ok, fail) => {
      const check = () => {
        if (predicate(text)) {
          waiters.delete(check);
          clearTimeout(timer);
          ok(text);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`timed out; got ${JSON.stringify(text)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    }),
  };
}

interface Received { data: string; id: string; type: string }

/** The `eventsource` package; resolves once open. Extra request headers via its fetch hook. */
async function eventSource(url: string, headers: Record<string, string> = {}, events: string[] = []) {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const es = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
  });
  const push = (ev: MessageEvent) => {
    received.push({ data: String(ev.data), id: ev.lastEventId, type: ev.type });
    for (const w of waiters) w();
  };
  es.addEventListener('message', push);
  for (const e of events) es.addEventListener(e, push);
  await new Promise<void>((ok, fail) => {
    es.onopen = () => ok();
    es.onerror = (e) => fail(new Error(`EventSource error: ${e.message ?? e.code}`));
  });
  es.onerror = null;
  return {
    es,
    received,
    wait: (count: number, timeoutMs = 5000) => new Promise<Received[]>((ok, fail) => {
      const check = () => {
        if (received.length >= count) {
          waiters.delete(check);
          clearTimeout(timer);
          ok(received);
        }
      };
      const timer = setTimeout(() => fail(new Error(`${received.length} of ${count} events: ${JSON.stringify(received)}`)), timeoutMs);
      waiters.add(check);
      check();
    }),
  };
}

const sse = (url: string, headers: Record<string, string> = {}): Promise<Stream> => openStream(url, { accept: 'text/event-stream', ...headers });
const ID = /^\d+:\d+$/;

describe('eventsource transport', () => {
  let h: Harness;
  before(async () => (h = await harness(eventsourceTransport)));
  after(() => h.close());

  it('delivers in order to a real EventSource client, event names and multi-line data included', async () => {
    const c = await eventSource(`${h.base}/sub/es-order`, {}, ['greet']);
    await h.publish('es-order', 'first');
    await h.publish('es-order', 'line1\nline2', { eventName: 'greet' });
    await h.publish('es-order', '');
    await h.publish('es-order', 'last');
    const got = await c.wait(4);
    c.es.close();
    assert.deepEqual(got.map((r) => [r.type, r.data]), [['message', 'first'], ['greet', 'line1\nline2'], ['message', ''], ['message', 'last']]);
    for (const r of got) assert.match(r.id, ID);
  });

  it('frames exactly as nchan: head, `: hi`, event before id, split data, `data: ` for empty', async () => {
    const s = await sse(`${h.base}/sub/es-frame`);
    assert.equal(s.status, 200);
    assert.equal(s.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(s.headers.etag, undefined);
    await s.until((t) => t === ': hi\n\n');
    const id1 = await h.publish('es-frame', 'line1\nline2', { eventName: 'greet' });
    const id2 = await h.publish('es-frame', '');
    const id3 = await h.publish('es-frame', 'crlf\r\nline', { contentType: 'application/json' });
    const text = await s.until((t) => parseSse(t).length >= 4);
    s.close();
    assert.equal(text, `: hi\n\nevent: greet\nid: ${id1}\ndata: line1\ndata: line2\n\nid: ${id2}\ndata: \n\nid: ${id3}\ndata: crlf\r\ndata: line\n\n`);
  });

  it('sends the retry hint with `: hi` when retryMs > 0', async () => {
    const r = await harness(eventsourceTransport, { retryMs: 1500 });
    try {
      const s = await sse(`${r.base}/sub/es-retry`);
      assert.equal(await s.until((t) => t.endsWith('\n\n')), ': hi\nretry: 1500\n\n');
      s.close();
    } finally {
      await r.close();
    }
  });

  it('sends nchan ping events at the configured interval', async () => {
    const p = await harness(eventsourceTransport, { pingInterval: 0.03 });
    try {
      const s = await sse(`${p.base}/sub/es-ping`);
      const text = await s.until((t) => t.split('event: ping\ndata: \n\n').length >= 3);
      assert.ok(text.startsWith(': hi\n\nevent: ping\ndata: \n\n'), text);
      s.close();
      const c = await eventSource(`${p.base}/sub/es-ping`, {}, ['ping']);
      const got = await c.wait(2);
      c.es.close();
      assert.deepEqual(got.slice(0, 2).map((r) => [r.type, r.data]), [['ping', ''], ['ping', '']]);
    } finally {
      await p.close();
    }
  });

  describe('resume', () => {
    const ids: string[] = [];
    before(async () => {
      for (const m of ['m1', 'm2', 'm3']) ids.push(await h.publish('es-resume', m));
    });
    const data = (rs: Received[]) => rs.map((r) => r.data);

    it('starts from the oldest message by default', async () => {
      const c = await eventSource(`${h.base}/sub/es-resume`);
      assert.deepEqual(data(await c.wait(3)), ['m1', 'm2', 'm3']);
      c.es.close();
    });
    it('resumes from the Last-Event-ID header', async () => {
      const c = await eventSource(`${h.base}/sub/es-resume`, { 'last-event-id': ids[0]! });
      assert.deepEqual(data(await c.wait(2)), ['m2', 'm3']);
      c.es.close();
    });
    it('resumes from ?last_event_id= (encoded and raw)', async () => {
      for (const q of [encodeURIComponent(ids[1]!), ids[1]!]) {
        const c = await eventSource(`${h.base}/sub/es-resume?last_event_id=${q}`);
        assert.deepEqual(data(await c.wait(1)), ['m3']);
        c.es.close();
      }
    });
    it('resumes from If-Modified-Since + If-None-Match, which win over Last-Event-ID', async () => {
      const [secs, tag] = ids[0]!.split(':') as [string, string];
      const s = await sse(`${h.base}/sub/es-resume`, {
        'if-modified-since': new Date(Number(secs) * 1000).toUTCString(), 'if-none-match': tag, 'last-event-id': ids[1]!,
      });
      const frames = parseSse(await s.until((t) => parseSse(t).length >= 3));
      s.close();
      assert.deepEqual(frames.slice(1).map((f) => f.data), ['m2', 'm3']);
    });
    it('applies the first-message policy without an id (newest, -1)', async () => {
      const newest = await harness(eventsourceTransport, { firstMessage: 'newest' });
      const back = await harness(eventsourceTransport, { firstMessage: -1 });
      try {
        for (const x of [newest, back]) for (const m of ['a', 'b']) await x.publish('fm', m);
        const c = await eventSource(`${back.base}/sub/fm`);
        assert.deepEqual(data(await c.wait(1)), ['b']);
        c.es.close();
        const n = await eventSource(`${newest.base}/sub/fm`);
        await newest.publish('fm', 'c');
        assert.deepEqual(data(await n.wait(1)), ['c']);
        n.es.close();
      } finally {
        await newest.close();
        await back.close();
      }
    });
    it('answers malformed ids with 400 and a JSON body, ignores colon-less ones', async () => {
      const bad = await http(`${h.base}/sub/es-resume`, { headers: { accept: 'text/event-stream', 'last-event-id': ':0' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers['content-type'], 'application/json');
      assert.equal((JSON.parse(bad.body) as { code: string }).code, 'BAD_MESSAGE_ID');
      const q = await http(`${h.base}/sub/es-resume?last_event_id=${encodeURIComponent(`${ids[0]!.split(':')[0]}:0,0`)}`);
      assert.equal(q.status, 400);
      const c = await eventSource(`${h.base}/sub/es-resume`, { 'last-event-id': 'garbage' });
      assert.deepEqual(data(await c.wait(3)), ['m1', 'm2', 'm3']);
      c.es.close();
    });
  });

  it('shows multiplexed ids and resumes from one', async () => {
    const s = await sse(`${h.base}/sub/mx-a,mx-b`);
    await s.until((t) => t === ': hi\n\n');
    await h.publish('mx-a', 'to-a');
    await h.publish('mx-b', 'to-b');
    const frames = parseSse(await s.until((t) => parseSse(t).length >= 3));
    s.close();
    assert.match(frames[1]!.id!, /^\d+:\[\d+\],-$/);
    assert.match(frames[2]!.id!, /^\d+:(\d+,\[\d+\]|\[\d+\],-)$/);
    assert.deepEqual(frames.slice(1).map((f) => f.data), ['to-a', 'to-b']);
    const c = await eventSource(`${h.base}/sub/mx-a,mx-b`, { 'last-event-id': frames[1]!.id! });
    assert.deepEqual((await c.wait(1)).map((r) => r.data), ['to-b']);
    c.es.close();
    const bad = await http(`${h.base}/sub/mx-a,mx-b`, { headers: { 'last-event-id': `${frames[1]!.id!.split(':')[0]}:0,-` } });
    assert.equal(bad.status, 400, 'a multiplexed id needs its [k] marker');
  });

  it('ends with `:410: 410 Gone` when a channel is deleted (multiplexed too)', async () => {
    for (const path of ['del-1', 'del-2,del-3']) {
      const s = await sse(`${h.base}/sub/${path}`);
      await s.until((t) => t === ': hi\n\n');
      await h.hub.delete(path.split(',').at(-1)!);
      assert.equal(await s.ended, ': hi\n\n:410: 410 Gone\n\n');
    }
  });

  it('names the reason and gives a retry hint when the hub closes (drain)', async () => {
    for (const [options, retry] of [[{}, RECONNECT_RETRY_MS], [{ retryMs: 2500 }, 2500]] as const) {
      const x = await harness(eventsourceTransport, options);
      const s = await sse(`${x.base}/sub/hc`);
      await s.until((t) => t.endsWith('\n\n'));
      await x.hub.close();
      assert.equal((await s.ended).replace(/^: hi\n(retry: \d+\n)?\n/, ''), `: HUB_CLOSED\nretry: ${retry}\n\n`);
      await x.close();
    }
  });

  it('releases the subscription when the client goes away', async () => {
    const s = await sse(`${h.base}/sub/gone`);
    await s.until((t) => t === ': hi\n\n');
    assert.equal((await h.hub.info('gone'))?.subscribers, 1);
    const serving = h.served.at(-1)!;
    s.close();
    await serving;
    assert.equal((await h.hub.info('gone'))?.subscribers ?? 0, 0, 'uncounted (or the empty channel is gone)');
  });

  it('closes a slow consumer that stops reading', async () => {
    const x = await harness(eventsourceTransport, { limits: { maxQueuedMessages: 3, maxQueuedBytes: 64 * 1024 * 1024 } });
    try {
      const client = rawGet(x.port, '/sub/slow', { accept: 'text/event-stream' });
      await client.until((t) => t.includes(': hi\n\n'));
      client.socket.pause();
      const big = 'x'.repeat(256 * 1024);
      for (let i = 0; i < 400 && (await x.hub.counters()).slowConsumers === 0; i++) await x.publish('slow', big);
      assert.equal((await x.hub.counters()).slowConsumers, 1);
      client.socket.resume();
      await client.closed;
      await x.served.at(-1);
      assert.equal((await x.hub.info('slow'))?.subscribers, 0);
    } finally {
      await x.close();
    }
  });
});

describe('frames written straight to the socket', () => {
  it('is the path this Node.js takes (a Node upgrade that removes it shows here)', () => {
    assert.equal(directWritesAvailable(), true);
  });

  it('a reader that pauses past the kernel buffers gets every frame, whole and in order, once it reads again', async () => {
    const x = await harness(eventsourceTransport, { limits: { maxQueuedMessages: 100, maxQueuedBytes: 64 * 1024 * 1024 } });
    try {
      const client = rawGet(x.port, '/sub/paused', { accept: 'text/event-stream' });
      await client.until((t) => t.includes(': hi\n\n'));
      client.socket.pause();
      const megabyte = 'x'.repeat(1024 * 1024);
      const count = 24; // more than loopback's socket buffers hold: the later writes wait in libuv and the hub's queue
      for (let i = 0; i < count; i++) await x.publish('paused', `m${i}:${megabyte}`);
      client.socket.resume();
      const text = await client.until((t) => t.includes(`data: m${count - 1}:${megabyte}\n\n`), 20_000);
      const seen = [...text.matchAll(/data: m(\d+):(x*)\n/g)];
      assert.deepEqual(seen.map((m) => Number(m[1])), [...Array(count).keys()]);
      assert.ok(seen.every((m) => m[2]?.length === megabyte.length), 'every frame whole');
      assert.equal((await x.hub.counters()).slowConsumers, 0);
    } finally {
      await x.close();
    }
  });

  it('a replay larger than the kernel buffers, then live messages, arrive in order to a reader that was paused', async () => {
    const x = await harness(eventsourceTransport, { limits: { maxQueuedMessages: 100, maxQueuedBytes: 64 * 1024 * 1024 } });
    try {
      const megabyte = 'x'.repeat(1024 * 1024);
      for (let i = 0; i < 10; i++) await x.publish('replayed', `m${i}:${megabyte}`); // the buffer's 10, replayed on subscribe
      const client = rawGet(x.port, '/sub/replayed', { accept: 'text/event-stream' });
      client.socket.pause();
      while ((await x.hub.info('replayed'))?.subscribers !== 1) await new Promise((resolve) => setImmediate(resolve));
      for (let i = 10; i < 16; i++) await x.publish('replayed', `m${i}:${megabyte}`);
      client.socket.resume();
      const text = await client.until((t) => t.includes(`data: m15:${megabyte}\n\n`), 20_000);
      assert.deepEqual([...text.matchAll(/data: m(\d+):x*\n/g)].map((m) => Number(m[1])), [...Array(16).keys()]);
    } finally {
      await x.close();
    }
  });
});

describe('stream framing on the wire', () => {
  let h: Harness;
  before(async () => (h = await harness(eventsourceTransport)));
  after(() => h.close());

  it('frames one message for HTTP/1.1 (chunked) and HTTP/1.0 (until close) subscribers alike', async () => {
    const v11 = rawGet(h.port, '/sub/wire', { accept: 'text/event-stream' });
    const v10 = rawGet(h.port, '/sub/wire', { accept: 'text/event-stream' }, 'GET %s HTTP/1.0');
    await v11.until((t) => t.includes(': hi'));
    await v10.until((t) => t.includes(': hi'));
    const id = await h.publish('wire', 'line 1\nline 2');
    const frame = `id: ${id}\ndata: line 1\ndata: line 2\n\n`;
    const body11 = await v11.until((t) => t.endsWith(`${frame}\r\n`));
    assert.match(body11, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.ok(body11.endsWith(`${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`), body11);
    const body10 = await v10.until((t) => t.endsWith(frame));
    assert.doesNotMatch(body10, /transfer-encoding/i);
    assert.equal(body10.slice(body10.indexOf('\r\n\r\n') + 4), `: hi\n\n${frame}`);
    await h.hub.delete('wire');
    await v10.closed; // HTTP/1.0: the body ends with the connection
    await v11.until((t) => t.endsWith('0\r\n\r\n'));
    v11.socket.destroy();
  });

  it('takes an HTTP/1.1 stream\'s socket from the HTTP server once the head is out (parser freed)', async () => {
    const before = detachedStreamCount();
    const client = rawGet(h.port, '/sub/detach', { accept: 'text/event-stream' });
    await client.until((t) => t.includes(': hi'));
    assert.equal(detachedStreamCount(), before + 1, 'the stream no longer detaches: idle subscribers cost a parser and req/res again');
    const id = await h.publish('detach', 'after detach');
    const frame = `id: ${id}\ndata: after detach\n\n`;
    await client.until((t) => t.endsWith(`${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`));
    // Bytes a client sends on a stream are ignored, not parsed as a next request.
    client.socket.write('GET /sub/other HTTP/1.1\r\nHost: x\r\n\r\n');
    await h.hub.delete('detach');
    await client.closed; // farewell, terminating chunk, then the connection closes
    assert.ok(client.text().endsWith(':410: 410 Gone\n\n\r\n0\r\n\r\n'), client.text());
    assert.equal((client.text().match(/HTTP\/1\.1 /g) ?? []).length, 1);
  });

  it('ends a detached stream when the client half-closes (FIN), as Node\'s server would', async () => {
    const client = rawGet(h.port, '/sub/fin', { accept: 'text/event-stream' });
    await client.until((t) => t.includes(': hi'));
    const serving = h.served.at(-1)!;
    assert.equal((await h.hub.info('fin'))?.subscribers, 1);
    client.socket.end();
    await Promise.all([serving, client.closed]);
    assert.equal((await h.hub.info('fin'))?.subscribers ?? 0, 0);
  });

  it('writes pings and the farewell on a detached HTTP/1.0 stream without chunk framing', async () => {
    const x = await harness(eventsourceTransport, { pingInterval: 0.05 });
    try {
      const v10 = rawGet(x.port, '/sub/ping10', { accept: 'text/event-stream' }, 'GET %s HTTP/1.0');
      await v10.until((t) => t.includes('event: ping\ndata: \n\n'));
      await x.hub.delete('ping10');
      await v10.closed;
      const body = v10.text().slice(v10.text().indexOf('\r\n\r\n') + 4);
      assert.match(body, /^: hi\n\n(event: ping\ndata: \n\n)+:410: 410 Gone\n\n$/);
    } finally {
      await x.close();
    }
  });

  it('answers HEAD with the stream head only', async () => {
    await h.publish('wire-head', 'not for HEAD');
    const head = rawGet(h.port, '/sub/wire-head?last_event_id=0:0', { accept: 'text/event-stream', connection: 'close' }, 'HEAD %s HTTP/1.1');
    await head.closed;
    const text = head.text();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/i);
    assert.doesNotMatch(text, /not for HEAD|data:/);
    head.socket.destroy();
  });
});

describe('chunked transport', () => {
  let h: Harness;
  before(async () => (h = await harness(chunkedTransport)));
  after(() => h.close());

  it('sends one chunk per message, skips empty ones, ends on delete', async () => {
    const c = rawGet(h.port, '/sub/ch', { te: 'chunked' });
    await c.until((t) => t.includes('\r\n\r\n'));
    assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(c.text(), /\r\ntransfer-encoding: chunked\r\n/i);
    await h.publish('ch', 'one');
    await h.publish('ch', '');
    await h.publish('ch', 'hello world');
    await c.until((t) => t.includes('hello world'));
    assert.equal(c.text().slice(c.text().indexOf('\r\n\r\n') + 4), '3\r\none\r\nb\r\nhello world\r\n');
    await h.hub.delete('ch');
    await c.until((t) => t.endsWith('0\r\n\r\n'));
    c.socket.destroy();
  });

  it('resumes with last_event_id', async () => {
    const id = await h.publish('ch-r', 'a');
    await h.publish('ch-r', 'b');
    const s = await openStream(`${h.base}/sub/ch-r?last_event_id=${id}`, { te: 'chunked' });
    assert.equal(await s.until((t) => t.includes('b')), 'b');
    s.close();
  });
});

describe('multipart transport', () => {
  let h: Harness;
  before(async () => (h = await harness(multipartTransport)));
  after(() => h.close());

  it('streams parts with Last-Modified, Etag, Content-Type and a random boundary', async () => {
    const one = await h.publish('mp', 'one', { contentType: 'text/x-one' });
    const s = await openStream(`${h.base}/sub/mp`, { accept: 'multipart/mixed' });
    const s2 = await openStream(`${h.base}/sub/mp`, { accept: 'multipart/mixed' });
    const m = /^multipart\/mixed; boundary=(\S+)$/.exec(String(s.headers['content-type']));
    assert.ok(m, String(s.headers['content-type']));
    const b = m[1]!;
    assert.notEqual(s2.headers['content-type'], s.headers['content-type'], 'boundary is per subscriber');
    s2.close();
    const two = await h.publish('mp', 'two');
    await s.until((t) => t.includes('two'));
    const part = (id: string, body: string, ct?: string) => {
      const [secs, tag] = id.split(':') as [string, string];
      return `\r\nLast-Modified: ${new Date(Number(secs) * 1000).toUTCString()}\r\nEtag: ${tag}\r\n${ct ? `Content-Type: ${ct}\r\n` : ''}\r\n${body}\r\n--${b}`;
    };
    assert.equal(s.text(), `--${b}${part(one, 'one', 'text/x-one')}${part(two, 'two')}`);
    await h.hub.delete('mp');
    assert.ok((await s.ended).endsWith(`--${b}--\r\n`));
  });

  it('puts the multiplexed tag part in Etag', async () => {
    const s = await openStream(`${h.base}/sub/mpa,mpb`, { accept: 'multipart/mixed' });
    await h.publish('mpb', 'x');
    assert.match(await s.until((t) => t.includes('x')), /\r\nEtag: -,\[\d+\]\r\n/);
    s.close();
  });
});

describe('rawstream transport', () => {
  it('appends the separator after every message, no Content-Type, ends on delete', async () => {
    const h = await harness(rawstreamTransport);
    try {
      const s = await openStream(`${h.base}/sub/raw`);
      assert.equal(s.status, 200);
      assert.equal(s.headers['content-type'], undefined);
      assert.equal((await h.hub.info('raw'))?.subscribers, 1);
      await h.publish('raw', 'one');
      await h.publish('raw', 'two');
      await s.until((t) => t.includes('two'));
      await h.hub.delete('raw');
      assert.equal(await s.ended, 'one\ntwo\n');
    } finally {
      await h.close();
    }
  });

  it('uses the configured separator and resumes from ?last_event_id=', async () => {
    const h = await harness(rawstreamTransport, { rawStreamSeparator: '|' });
    try {
      const id = await h.publish('raw2', 'a');
      await h.publish('raw2', 'b');
      await h.publish('raw2', '');
      const s = await openStream(`${h.base}/sub/raw2?last_event_id=${encodeURIComponent(id)}`);
      assert.equal(await s.until((t) => t === 'b||'), 'b||');
      s.close();
    } finally {
      await h.close();
    }
  });
});

describe('selectTransport', () => {
  const all = ['websocket', 'eventsource', 'longpoll', 'chunked', 'multipart'] as const;
  const sel = (headers: Record<string, string>, allowed: Parameters<typeof selectTransport>[1] = all) => selectTransport({ headers }, allowed);
  it('follows nchan cascade', () => {
    assert.equal(sel({ upgrade: 'websocket' }), 'websocket');
    assert.equal(sel({ accept: 'text/event-stream' }), 'eventsource');
    assert.equal(sel({ accept: 'text/html, multipart/mixed;q=0.9' }), 'multipart');
    assert.equal(sel({ te: 'trailers, chunked' }), 'chunked');
    assert.equal(sel({ te: 'chunked;q=0' }), 'longpoll');
    assert.equal(sel({}), 'longpoll');
    assert.equal(sel({}, ['rawstream']), 'rawstream');
    assert.equal(sel({}, ['longpoll', 'eventsource']), 'longpoll');
  });
  it('treats an interval-poll-only location as interval-poll for everything but WebSocket (real nchan)', () => {
    assert.equal(sel({ accept: 'text/event-stream' }, ['intervalpoll']), 'intervalpoll');
    assert.equal(sel({}, ['intervalpoll']), 'intervalpoll');
    assert.equal(sel({ upgrade: 'websocket' }, ['intervalpoll']), undefined);
  });
  it('refuses what is not allowed (undefined = 403)', () => {
    assert.equal(sel({ upgrade: 'websocket' }, ['eventsource', 'longpoll']), undefined);
    assert.equal(sel({ accept: 'text/event-stream' }, ['websocket']), undefined);
    assert.equal(sel({}, []), undefined);
  });
});
