/**
 * Issue 5, item 3: 200 subscribers (EventSource, WebSocket, long-poll) stay connected across 20
 * reloads while a publisher sends; every subscriber must end with every message, in order,
 * exactly once, and no stream may be dropped (no SSE end, no WebSocket close, no long-poll
 * answer other than 200).
 *
 * Everything is real sockets: subscribers on the proxy listener behind key-auth + acl (so each
 * reload really re-runs plugins on every stream), the publisher on the internal listener
 * (`POST /pub/soak`, bodies = sequence numbers). Reloads alternate between configs that change
 * other routes, consumers and plugins; the reloader waits for publisher progress (never a timer),
 * so reloads land while messages are in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { Agent, request } from 'undici';
import { openStream, type Stream } from '../differential/observe.ts';
import { snapshotFrom, startGateway } from '../helpers/gateway.ts';
import { heldStreams, openWebSocket, type WsSubscriber } from '../helpers/streams.ts';

const SSE_SUBSCRIBERS = 80;
const WS_SUBSCRIBERS = 80;
const POLL_SUBSCRIBERS = 40;
const RELOADS = 20;
const MESSAGES = 100;

const config = (generation: number) => `_format_version: "3.0"
channels:
  - { name: soak, match: soak, message_buffer_length: ${MESSAGES * 2}, message_timeout: 0 }
consumers:
  - username: reader
    keyauth_credentials: [{ key: reader-key }]
    acls: [{ group: readers }]
${generation % 2 === 1 ? `  - username: visitor-${generation}
    keyauth_credentials: [{ key: visitor-${generation}-key }]
` : ''}routes:
  - name: soak
    paths: [/soak]
    plugins:
      - name: key-auth
      - name: acl
        config: { allow: [readers${generation % 3 === 0 ? ', editors' : ''}] }
      - name: pubsub-subscriber
        config: { channels: [soak], transports: [eventsource, websocket, longpoll], first_message: oldest }
  - name: generation-${generation}
    paths: [/generation-${generation}]
    plugins: [{ name: request-termination, config: { status_code: 200, message: "${generation}" } }]
`;

const expected = Array.from({ length: MESSAGES }, (_, i) => String(i));
const sseData = (stream: Stream) => [...stream.text().matchAll(/^data: (.*)$/gm)].map((m) => m[1]);

test('200 subscribers stay connected across 20 reloads while publishing: zero drops, zero lost messages', { timeout: 180_000 }, async () => {
  const gw = await startGateway(config(0), {
    listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
  });
  const internal = `http://${gw.gateway.addresses.internal[0]}/pub/soak`;
  const url = `${gw.proxyUrl}/soak?apikey=reader-key`;
  const agent = new Agent({ connections: POLL_SUBSCRIBERS + 8 });
  const drops: string[] = [];
  let done = false;
  try {
    const sse = await Promise.all(Array.from({ length: SSE_SUBSCRIBERS }, () => openStream(url, { accept: 'text/event-stream' })));
    assert.ok(sse.every((s) => s.status === 200));
    for (const [i, s] of sse.entries()) void s.ended.then(() => done || drops.push(`eventsource ${i} ended: ${s.text().slice(-80)}`));
    const ws: WsSubscriber[] = await Promise.all(Array.from({ length: WS_SUBSCRIBERS }, () => openWebSocket(url.replace('http', 'ws'))));
    for (const [i, w] of ws.entries()) void w.closed.then(({ code, reason }) => done || drops.push(`websocket ${i} closed ${code} ${reason}`));

    // Long-poll walks the channel one message per answer, sending Last-Modified + Etag back.
    const polled: string[][] = Array.from({ length: POLL_SUBSCRIBERS }, () => []);
    const polls = polled.map(async (received, i) => {
      let headers: Record<string, string> = {};
      while (received.length < MESSAGES) {
        const res = await request(url, { headers, dispatcher: agent });
        const body = await res.body.text();
        if (res.statusCode !== 200) {
          drops.push(`long-poll ${i} answered ${res.statusCode}`);
          return;
        }
        received.push(body);
        headers = { 'if-modified-since': String(res.headers['last-modified']), 'if-none-match': String(res.headers.etag) };
      }
    });
    await heldStreams(gw.gateway, SSE_SUBSCRIBERS + WS_SUBSCRIBERS + POLL_SUBSCRIBERS);

    const progress = new EventEmitter();
    let published = 0;
    const publisher = (async () => {
      for (let i = 0; i < MESSAGES; i++) {
        const res = await request(internal, { method: 'POST', body: String(i) });
        assert.ok(res.statusCode === 201, `publish ${i}: ${res.statusCode}`);
        await res.body.dump();
        published++;
        progress.emit('published');
      }
    })();
    const summaries = [];
    for (let generation = 1; generation <= RELOADS; generation++) {
      while (published < (generation * MESSAGES) / (RELOADS + 1)) await once(progress, 'published');
      summaries.push(await gw.gateway.reload(snapshotFrom(config(generation))));
    }
    await publisher;
    assert.equal(summaries.length, RELOADS);
    assert.deepEqual(summaries.filter((s) => s.closed > 0), [], 'no reload closed a stream');
    assert.equal(await (await request(`${gw.proxyUrl}/generation-${RELOADS}`)).body.text(), `{"message":"${RELOADS}"}`, 'the last config is live');

    await Promise.all(sse.map((s) => s.until((text) => text.includes(`data: ${MESSAGES - 1}\n`), 60_000)));
    await Promise.all(ws.map((w) => w.received(MESSAGES)));
    await Promise.all(polls);
    assert.deepEqual(drops, []);
    for (const [i, s] of sse.entries()) assert.deepEqual(sseData(s), expected, `eventsource ${i}`);
    for (const [i, w] of ws.entries()) assert.deepEqual(w.messages, expected, `websocket ${i}`);
    for (const [i, received] of polled.entries()) assert.deepEqual(received, expected, `long-poll ${i}`);
    done = true;
    for (const w of ws) w.ws.close();
  } finally {
    done = true;
    await gw.close();
    await agent.close();
  }
});
