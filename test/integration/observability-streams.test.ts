import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { sample, scrape, waitForSample } from '../helpers/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';

const subscriberRoute = (name: string, extra = '') => `  - name: ${name}
    paths: ["~/${name}/(?<ch>[a-z-]+)$"]
    plugins:
      - name: key-auth
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.ch)"], transports: [eventsource, websocket, longpoll]${extra} }
`;

const CONFIG = `_format_version: "3.0"
routes:
${subscriberRoute('live')}${subscriberRoute('slow', ', max_queued_messages: 4')}consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
`;

type Line = Record<string, unknown>;

/** A logger whose JSON lines the test reads back. */
function capturedLogger() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text !== '') lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('subscriber streams in /metrics and in the log', () => {
  let gw: TestGateway;
  let lines: Line[];
  const publish = (channel: string, text: string) => gw.gateway.hub.publish(channel, { data: Buffer.from(text), contentType: 'text/plain' });
  const streams = (transport: string) => ({ transport });

  before(async () => {
    const captured = capturedLogger();
    lines = captured.lines;
    gw = await startGateway(CONFIG, { logger: captured.logger, metricsPerConsumer: true });
  });
  after(() => gw.close());

  test('an EventSource stream: open and subscriber gauges while open, closed by the client, its lines logged', async () => {
    const source = new EventSource(`${gw.proxyUrl}/live/news?apikey=alice-key`);
    await once(source as unknown as EventTarget as never, 'open');
    const open = await scrape(gw.adminUrl);
    assert.equal(sample(open, 'sluice_open_streams', streams('eventsource')), 1);
    assert.equal(sample(open, 'sluice_subscribers', { route: 'live', consumer: 'alice' }), 1);
    const received: string[] = [];
    const two = new Promise<void>((resolve) =>
      source.addEventListener('message', (event) => {
        received.push(event.data);
        if (received.length === 2) resolve();
      }),
    );
    await publish('news', 'one');
    await publish('news', 'two');
    await two;
    source.close();
    const closed = await waitForSample(gw.adminUrl, 'sluice_open_streams', streams('eventsource'), 0);
    assert.equal(sample(closed, 'sluice_subscribers', { route: 'live', consumer: 'alice' }), 0);
    assert.equal(sample(closed, 'sluice_stream_closes_total', { transport: 'eventsource', reason: 'client_closed' }), 1);
    assert.equal(sample(closed, 'sluice_messages_published_total'), 2);
    assert.equal(sample(closed, 'sluice_messages_delivered_total'), 2);
    assert.equal(sample(closed, 'sluice_pubsub_channels'), 1);
    assert.equal(sample(closed, 'sluice_pubsub_stored_messages'), 2);

    const opened = lines.find((l) => l.event === 'stream_open' && l.transport === 'eventsource');
    assert.ok(opened, 'a stream_open line');
    assert.deepEqual(
      { route: opened.route, consumer: opened.consumer, channels: opened.channels, msg: opened.msg, level: opened.level },
      { route: 'live', consumer: 'alice', channels: ['news'], msg: 'stream opened', level: 30 },
    );
    assert.equal(typeof opened.request_id, 'string');
    const close = lines.find((l) => l.event === 'stream_close' && l.request_id === opened.request_id);
    assert.ok(close, 'a stream_close line for the same request');
    assert.equal(close.messages, 2);
    assert.equal(close.reason, 'client_closed');
    assert.equal(close.transport, 'eventsource');
    assert.ok(typeof close.duration_ms === 'number' && close.duration_ms >= 0);
    const access = lines.filter((l) => l.event === 'access' && l.request_id === opened.request_id);
    assert.equal(access.length, 1, 'one access line for the stream request, once it ended');
    assert.equal(access[0]?.status, 200);
    assert.ok(lines.indexOf(close) < lines.indexOf(access[0] as Line), 'the access line follows the close line');
  });

  test('a WebSocket stream closed by the server (channel deleted) logs that reason', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/live/room?apikey=bob-key`);
    await once(ws, 'open');
    assert.equal(sample(await scrape(gw.adminUrl), 'sluice_open_streams', streams('websocket')), 1);
    const message = once(ws, 'message');
    await publish('room', 'hello');
    assert.equal(String((await message)[0]), 'hello');
    const closed = once(ws, 'close');
    await gw.gateway.hub.delete('room');
    assert.equal((await closed)[0], 1001);
    const s = await waitForSample(gw.adminUrl, 'sluice_open_streams', streams('websocket'), 0);
    assert.equal(sample(s, 'sluice_stream_closes_total', { transport: 'websocket', reason: 'CHANNEL_DELETED' }), 1);
    assert.equal(sample(s, 'sluice_subscribers', { route: 'live', consumer: 'bob' }), 0);
    const close = lines.find((l) => l.event === 'stream_close' && l.transport === 'websocket');
    assert.equal(close?.reason, 'CHANNEL_DELETED');
    assert.equal(close?.messages, 1);
    assert.equal(close?.consumer, 'bob');
    const access = lines.find((l) => l.event === 'access' && l.request_id === close?.request_id);
    assert.equal(access?.status, 101, 'an accepted WebSocket logs 101');
  });

  test('a long-poll is a stream from subscription to answer', async () => {
    const poll = request(`${gw.proxyUrl}/live/poll?apikey=alice-key`);
    await waitForSample(gw.adminUrl, 'sluice_open_streams', streams('longpoll'), 1);
    await publish('poll', 'answer');
    const res = await poll;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'answer');
    const s = await waitForSample(gw.adminUrl, 'sluice_open_streams', streams('longpoll'), 0);
    assert.equal(sample(s, 'sluice_stream_closes_total', { transport: 'longpoll', reason: 'completed' }), 1);
    const close = lines.find((l) => l.event === 'stream_close' && l.transport === 'longpoll');
    assert.deepEqual({ reason: close?.reason, messages: close?.messages, channels: close?.channels }, { reason: 'completed', messages: 1, channels: ['poll'] });
  });

  test('a refused subscriber opens no stream: 401 counted as a request, no stream lines', async () => {
    const res = await request(`${gw.proxyUrl}/live/news`, { headers: { accept: 'text/event-stream' } });
    assert.equal(res.statusCode, 401);
    await res.body.dump();
    const s = await scrape(gw.adminUrl);
    assert.equal(sample(s, 'sluice_http_requests_total', { service: '', route: 'live', code: '401' }), 1);
    const access = lines.filter((l) => l.event === 'access' && l.status === 401);
    assert.equal(access.length, 1);
    assert.equal(lines.filter((l) => l.event === 'stream_open' && l.request_id === access[0]?.request_id).length, 0);
  });

  test('a slow consumer is closed, counted, and its queued messages counted as dropped', async () => {
    const before = await scrape(gw.adminUrl);
    const base = (name: string) => sample(before, name) ?? NaN;
    // A raw client that sends the request and then never reads: the socket backs up, then the queue.
    const socket = connect(gw.proxyPort, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /slow/flood?apikey=alice-key HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    await waitForSample(gw.adminUrl, 'sluice_open_streams', streams('eventsource'), 1);
    socket.pause();
    const big = 'x'.repeat(256 * 1024);
    let published = 0;
    while ((await gw.gateway.hub.counters()).slowConsumers === 0) {
      assert.ok(published < 400, 'the consumer was never found slow');
      await publish('flood', big);
      published++;
    }
    socket.destroy();
    const s = await waitForSample(gw.adminUrl, 'sluice_open_streams', streams('eventsource'), 0);
    assert.equal(sample(s, 'sluice_slow_consumer_closes_total'), 1);
    assert.equal(sample(s, 'sluice_stream_closes_total', { transport: 'eventsource', reason: 'SLOW_CONSUMER' }), 1);
    const delivered = (sample(s, 'sluice_messages_delivered_total') ?? NaN) - base('sluice_messages_delivered_total');
    const dropped = sample(s, 'sluice_messages_dropped_total') ?? NaN;
    assert.equal(base('sluice_messages_dropped_total'), 0);
    assert.equal(dropped, 5, 'the queue limit (4) plus the message that overflowed it');
    assert.equal(delivered + dropped, published, 'every message published to the slow consumer was either delivered or dropped');
    assert.equal((sample(s, 'sluice_messages_published_total') ?? NaN) - base('sluice_messages_published_total'), published);
    const close = lines.find((l) => l.event === 'stream_close' && l.reason === 'SLOW_CONSUMER');
    assert.equal(close?.messages, delivered);
  });
});
