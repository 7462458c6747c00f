/**
 * Graceful drain (issue 5, item 4): `Gateway.stop()` stops accepting, ends every stream with a
 * reconnect hint (EventSource `retry:`, WebSocket 1012, long-poll 503 + Retry-After), and the
 * clients resume on the next node from the buffer without loss.
 *
 * "The next node" is a second Gateway on the same engine: the memory engine lives in one
 * process, so two nodes can only share channels in one process (with Redis they would be two
 * processes). Node A drains while the publisher keeps publishing through node B's internal
 * listener; the clients act as behind a load balancer: each reconnect goes to the live node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { EventSource } from 'eventsource';
import { request } from 'undici';
import { createMemoryEngine } from '../../src/pubsub/index.ts';
import { openStream } from '../differential/observe.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { heldStreams, openWebSocket, type WsSubscriber } from '../helpers/streams.ts';

const MESSAGES = 30;
const CONFIG = `_format_version: "3.0"
channels:
  - { name: feed, match: feed, message_buffer_length: 1000, message_timeout: 0 }
routes:
  - name: feed
    paths: [/feed]
    plugins:
      - name: pubsub-subscriber
        config: { channels: [feed], transports: [eventsource, websocket, longpoll], first_message: oldest, eventsource_retry: 50 }
`;
const LISTEN = { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [], internal: [{ host: '127.0.0.1', port: 0 }], status: [] };
const expected = Array.from({ length: MESSAGES }, (_, i) => String(i));

/** Collects values and lets a test await a count. */
class Inbox extends EventEmitter {
  readonly values: string[] = [];
  push(value: string): void {
    this.values.push(value);
    this.emit('value');
  }
  async count(n: number): Promise<string[]> {
    while (this.values.length < n) await once(this, 'value');
    return this.values;
  }
}

test('stop drains every transport with a reconnect hint; clients resume on the next node without loss', async () => {
  const engine = createMemoryEngine();
  const a = await startGateway(CONFIG, { engine, listen: LISTEN });
  const b = await startGateway(CONFIG, { engine, listen: LISTEN });
  let live: TestGateway = a;
  const base = (gw: TestGateway) => gw.proxyUrl;
  const publish = async (i: number) => {
    const res = await request(`http://${b.gateway.addresses.internal[0]}/pub/feed`, { method: 'POST', body: String(i) });
    await res.body.dump();
  };
  let es: EventSource | undefined;
  let ws: WsSubscriber | undefined;
  let finished = false;
  try {
    // EventSource (the real client): it reconnects by itself after `retry:` with Last-Event-ID;
    // its fetch is the load balancer, sending each connection to the live node.
    const sse = new Inbox();
    const sseOpens: string[] = [];
    es = new EventSource(`${a.proxyUrl}/feed`, {
      fetch: (input, init) => {
        sseOpens.push(live === a ? 'a' : 'b');
        return fetch(String(input).replace(a.proxyUrl, base(live)), init);
      },
    });
    es.addEventListener('message', (event) => sse.push(String(event.data)));
    await once(es as unknown as EventTarget as never, 'open');

    // WebSocket with nchan's meta subprotocol (frames carry their id); reconnects on 1012 with ?last_event_id=.
    const wsInbox = new Inbox();
    const wsCloses: number[] = [];
    let lastWsId = '';
    const connectWs = async (gw: TestGateway): Promise<void> => {
      const query = lastWsId === '' ? '' : `?last_event_id=${encodeURIComponent(lastWsId)}`;
      ws = await openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/feed${query}`, {
        protocol: 'ws+meta.nchan',
        onMessage: (text) => {
          const [head = '', body = ''] = text.split('\n\n');
          lastWsId = /^id: (.*)$/m.exec(head)?.[1] ?? lastWsId;
          wsInbox.push(body);
        },
      });
      void ws.closed.then(({ code }) => {
        wsCloses.push(code);
        if (code === 1012 && !finished) void connectWs(live);
      });
    };
    await connectWs(a);

    // Long-poll: on 503 (or a refused connection) poll the live node with the same If-* headers.
    const poll = new Inbox();
    const pollAnswers: string[] = [];
    const polling = (async () => {
      let headers: Record<string, string> = {};
      while (poll.values.length < MESSAGES) {
        const res = await request(`${base(live)}/feed`, { headers }).catch((error: Error) => error);
        if (res instanceof Error) continue;
        const body = await res.body.text();
        if (res.statusCode !== 200) {
          pollAnswers.push(`${res.statusCode} retry-after=${String(res.headers['retry-after'])}`);
          continue;
        }
        poll.push(body);
        headers = { 'if-modified-since': String(res.headers['last-modified']), 'if-none-match': String(res.headers.etag) };
      }
    })();
    await heldStreams(a.gateway, 3);

    // A raw stream too, to see the exact farewell bytes.
    const raw = await openStream(`${a.proxyUrl}/feed`, { accept: 'text/event-stream' });

    for (let i = 0; i < 10; i++) await publish(i);
    await Promise.all([sse.count(10), wsInbox.count(10)]);
    const stopping = a.close();
    live = b;
    for (let i = 10; i < 20; i++) await publish(i); // published while A drains
    await stopping;
    for (let i = 20; i < MESSAGES; i++) await publish(i);

    assert.deepEqual(await sse.count(MESSAGES), expected, 'EventSource: every message once, in order');
    assert.deepEqual(await wsInbox.count(MESSAGES), expected, 'WebSocket: every message once, in order');
    await polling;
    assert.deepEqual(poll.values, expected, 'long-poll: every message once, in order');

    assert.match(await raw.ended, /: HUB_CLOSED\nretry: 50\n\n$/, 'EventSource farewell: the route\'s retry hint');
    assert.deepEqual(sseOpens, ['a', 'b'], 'EventSource reconnected once, to the live node');
    assert.deepEqual(wsCloses, [1012], 'WebSocket closed once with 1012 "service restart"');
    assert.ok(pollAnswers.every((answer) => answer === '503 retry-after=1'), pollAnswers.join(', '));
    await assert.rejects(request(a.proxyUrl), /ECONNREFUSED/, 'the drained node accepts nothing more');
  } finally {
    finished = true;
    es?.close();
    ws?.ws.close();
    await a.close();
    await b.close();
    await engine.close();
  }
});

test('a subscriber admitted while the node drains is answered 503, not held open', async () => {
  const gw = await startGateway(CONFIG);
  await gw.gateway.hub.close(); // the drain's first step: the hub refuses new subscriptions
  const res = await request(`${gw.proxyUrl}/feed`, { headers: { accept: 'text/event-stream' } });
  assert.equal(res.statusCode, 503);
  assert.deepEqual(await res.body.json(), { code: 'HUB_CLOSED', message: 'the node is shutting down; reconnect' });
  await gw.close();
});
