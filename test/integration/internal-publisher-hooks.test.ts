import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { WebSocket, type ClientOptions } from 'ws';
import { createLogger } from '../../src/observability/logger.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { closedPort, HookServer, readUntil, type HookCall } from '../helpers/hook-server.ts';
import { testPki, type Pem } from '../helpers/tls.ts';
import { certificatesYaml } from '../helpers/tls-client.ts';
import { longPollAt } from '../helpers/streams.ts';

/**
 * `internal_publisher_upstream` (nchan_publisher_upstream_request on the internal listener): every
 * HTTP and WebSocket publish goes through the app first, and with mTLS the app is told which
 * client certificate published (issue 7, item 4).
 */
const LOOPBACK = { host: '127.0.0.1', port: 0 };
/** A long-poll / EventSource subscriber route on the proxy listener: `/walk/<channel>`. */
const SUBSCRIBER_ROUTE = {
  routes: [{
    name: 'walk',
    paths: ['~/walk/(?<channel>[a-z0-9-]+)$'],
    plugins: [{ name: 'pubsub-subscriber', config: { channels: ['$(uri_captures.channel)'], transports: ['longpoll', 'eventsource'] } }],
  }],
};

interface Answer {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly body: string;
}

describe('internal publisher upstream hook over mTLS', () => {
  const pki = testPki();
  const hooks = new HookServer();
  const publisher = pki.client('publisher-1');
  const other = pki.client('publisher-2');
  let gw: TestGateway;
  let internalPort: number;

  before(async () => {
    await hooks.start();
    const server = pki.server(['internal.test']);
    gw = await startGateway(certificatesYaml([{ pem: server, snis: ['internal.test'] }], SUBSCRIBER_ROUTE), {
      listen: { proxy: [LOOPBACK], admin: [], internal: [{ ...LOOPBACK, ssl: true }], status: [] },
      tls: { internalClientCa: pki.ca.cert, defaultCertificate: { cert: [server.cert], key: [server.key] } },
      internalPublisherUpstream: { url: `${hooks.url}/upstream`, timeoutMs: 5000 },
    });
    internalPort = Number(gw.gateway.addresses.internal[0]?.split(':').pop());
  });
  after(async () => {
    await gw?.close();
    await hooks.close();
  });

  /** One request to the internal listener over TLS, presenting `client`'s certificate. */
  async function internal(path: string, client: Pem, options: { method?: 'GET' | 'POST' | 'PUT'; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'internal.test', cert: client.cert, key: client.key } });
    try {
      const res = await request(`https://127.0.0.1:${internalPort}${path}`, { method: options.method ?? 'GET', ...(options.body !== undefined ? { body: options.body } : {}), headers: options.headers ?? {}, dispatcher });
      return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    } finally {
      await dispatcher.close();
    }
  }

  const publish = (channel: string, body: string, action: string, headers: Record<string, string> = {}, client = publisher) =>
    internal(`/pub/${channel}`, client, { method: 'POST', body, headers: { 'x-action': action, accept: 'application/json', ...headers } });

  /** The upstream call that carried `body`. */
  const upstreamCall = (body: string): Promise<HookCall> => hooks.next((call) => call.url === '/upstream' && call.body === body);

  /** Messages stored in `channel` (0 when it does not exist). */
  async function stored(channel: string): Promise<number> {
    const info = await internal(`/pub/${channel}`, publisher, { headers: { accept: 'application/json' } });
    return info.status === 404 ? 0 : (JSON.parse(info.body) as { messages: number }).messages;
  }

  /** One long-poll answer from `channel` through the proxy listener; `next` walks on from it. */
  const longPoll = (channel: string, walk: Record<string, string> = {}) => longPollAt(`${gw.proxyUrl}/walk/${channel}`, walk);

  test('the hook is told the subject and SHA-256 fingerprint of the certificate that published', async () => {
    const first = await publish('who', 'from one', 'keep');
    assert.equal(first.status, 202, first.body);
    const call = await upstreamCall('from one');
    assert.equal(call.method, 'POST');
    assert.equal(call.headers['x-client-cert-subject'], 'CN=publisher-1,O=Sluice Tests');
    assert.equal(call.headers['x-client-cert-fingerprint'], new X509Certificate(publisher.cert).fingerprint256);
    assert.equal(call.headers['x-publisher-type'], 'http');
    assert.equal(call.headers['x-channel-id'], 'who');
    assert.equal(call.headers['x-original-uri'], '/pub/who');

    assert.equal((await publish('who', 'from two', 'keep', {}, other)).status, 202);
    const second = await upstreamCall('from two');
    assert.equal(second.headers['x-client-cert-subject'], 'CN=publisher-2,O=Sluice Tests');
    assert.equal(second.headers['x-client-cert-fingerprint'], new X509Certificate(other.cert).fingerprint256);
  });

  test('certificate headers sent by the publisher never reach the hook as sent', async () => {
    const forged = { 'X-Client-Cert-Subject': 'CN=admin,O=Root', 'x-client-cert-fingerprint': 'AA:BB' };
    assert.equal((await publish('forged', 'forged headers', 'keep', forged)).status, 202);
    const call = await upstreamCall('forged headers');
    assert.equal(call.headers['x-client-cert-subject'], 'CN=publisher-1,O=Sluice Tests');
    assert.equal(call.headers['x-client-cert-fingerprint'], new X509Certificate(publisher.cert).fingerprint256);
  });

  test('200 replaces the message (body and content type), 304 keeps it, 204 drops it; the subscriber walks what was kept', async () => {
    const rewritten = await publish('moderated', 'hello', 'rewrite', { 'content-type': 'text/plain' });
    assert.equal(rewritten.status, 202);
    assert.equal((JSON.parse(rewritten.body) as { messages: number }).messages, 1);
    assert.equal((await upstreamCall('hello')).headers['content-type'], 'text/plain');

    const kept = await internal('/pub/moderated', publisher, { method: 'PUT', body: 'as is', headers: { 'x-action': 'keep', 'content-type': 'text/plain' } });
    assert.equal(kept.status, 202, 'PUT publishes through the hook too');

    const dropped = await publish('moderated', 'spam', 'drop');
    assert.equal(dropped.status, 204, 'nchan answers a dropped publish 204');
    assert.equal(dropped.body, '');
    assert.equal(await stored('moderated'), 2, 'the dropped message was not stored');

    const walk1 = await longPoll('moderated');
    assert.equal(walk1.body, 'REWRITTEN(hello)');
    assert.equal(walk1.contentType, 'text/x-rewritten');
    const walk2 = await longPoll('moderated', walk1.next);
    assert.equal(walk2.body, 'as is');
    assert.equal(walk2.contentType, 'text/plain');
  });

  test('a live EventSource subscriber receives the rewritten message', async () => {
    const stream = await request(`${gw.proxyUrl}/walk/live`, { headers: { accept: 'text/event-stream' } });
    assert.equal(stream.statusCode, 200);
    await waitForInternalSubscribers('live', 1);
    const received = readUntil(stream.body, /\ndata: [^\n]*\n\n/);
    const published = await publish('live', 'breaking', 'rewrite');
    assert.equal(published.status, 201, 'a subscriber was listening');
    assert.match(await received, /\ndata: REWRITTEN\(breaking\)\n\n$/);
    stream.body.destroy();
  });

  test('any other hook answer is 403 UPSTREAM_REFUSED; the app\'s answer is not relayed and nothing is stored', async () => {
    const refused = await publish('refused', 'nope', 'refuse');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['x-reason'], undefined);
    assert.deepEqual(JSON.parse(refused.body), { message: 'the publisher upstream request answered 409', code: 'UPSTREAM_REFUSED' });
    assert.equal(await stored('refused'), 0);
  });

  test('channel info (GET) does not go through the hook', async () => {
    const calls = hooks.callsTo('/upstream').length;
    assert.equal((await internal('/pub/moderated', publisher, { headers: { accept: 'application/json' } })).status, 200);
    assert.equal(hooks.callsTo('/upstream').length, calls);
  });

  test('WebSocket publisher frames go through the hook, with the certificate of the handshake', async () => {
    // `ws` hands `servername` on to tls.connect (its types leave it out).
    const options: ClientOptions & { servername: string } = {
      ca: pki.ca.cert,
      servername: 'internal.test',
      cert: other.cert,
      key: other.key,
      headers: { 'x-action': 'per-message', accept: 'application/json', 'x-client-cert-subject': 'CN=forged' },
    };
    const ws = new WebSocket(`wss://127.0.0.1:${internalPort}/pub/ws-moderated`, options);
    const replies: string[] = [];
    const waiting: ((text: string) => void)[] = [];
    ws.on('message', (data) => {
      const text = String(data);
      const waiter = waiting.shift();
      if (waiter) waiter(text);
      else replies.push(text);
    });
    const reply = () => new Promise<string>((resolve) => (replies.length > 0 ? resolve(replies.shift() as string) : waiting.push(resolve)));
    await once(ws, 'open');

    // A dropped frame gets no reply (as nchan): the next reply is the kept frame's.
    ws.send('drop:spam');
    ws.send('keep:hello');
    assert.equal((JSON.parse(await reply()) as { messages: number }).messages, 1);
    ws.send('rewrite:there');
    assert.equal((JSON.parse(await reply()) as { messages: number }).messages, 2);
    ws.send('refuse:no');
    assert.deepEqual(JSON.parse(await reply()), { message: 'the publisher upstream request answered 409', code: 'UPSTREAM_REFUSED' });
    ws.send(Buffer.from('keep:binary'));
    assert.equal((JSON.parse(await reply()) as { messages: number }).messages, 3, 'the connection stays open after a refusal');
    ws.close();

    const call = await upstreamCall('drop:spam');
    assert.equal(call.headers['x-publisher-type'], 'websocket');
    assert.equal(call.headers['x-client-cert-subject'], 'CN=publisher-2,O=Sluice Tests');
    assert.equal(call.headers['x-client-cert-fingerprint'], new X509Certificate(other.cert).fingerprint256);
    assert.equal(call.headers['x-channel-id'], 'ws-moderated');
    assert.equal(call.headers['sec-websocket-key'], undefined);
    assert.equal((await upstreamCall('keep:binary')).headers['content-type'], 'application/octet-stream');

    const walk1 = await longPoll('ws-moderated');
    assert.equal(walk1.body, 'keep:hello');
    const walk2 = await longPoll('ws-moderated', walk1.next);
    assert.equal(walk2.body, 'REWRITTEN(rewrite:there)');
    assert.equal(walk2.contentType, 'text/x-rewritten');
    const walk3 = await longPoll('ws-moderated', walk2.next);
    assert.equal(walk3.body, 'keep:binary');
    assert.equal(walk3.contentType, 'application/octet-stream');
  });

  /** Polls channel info on the internal listener until it counts `n` subscribers. */
  async function waitForInternalSubscribers(channel: string, n: number): Promise<void> {
    for (let attempt = 0; attempt < 500; attempt++) {
      const info = await internal(`/pub/${channel}`, publisher, { headers: { accept: 'application/json' } });
      if (info.status === 200 && (JSON.parse(info.body) as { subscribers: number }).subscribers >= n) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`never saw ${n} subscribers on ${channel}`);
  }
});

describe('internal publisher upstream hook without TLS, down or slow', () => {
  const hooks = new HookServer();
  let plain: TestGateway & { internalUrl: string };
  let down: TestGateway & { internalUrl: string };
  let slow: TestGateway & { internalUrl: string };

  const warnings: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text !== '') warnings.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });

  /** A gateway whose only listener is a plain internal one, publishing through `url`. */
  async function withUpstream(url: string, timeoutMs: number): Promise<TestGateway & { internalUrl: string }> {
    const gateway = await startGateway('_format_version: "3.0"\n', {
      listen: { proxy: [], admin: [], internal: [LOOPBACK], status: [] },
      internalPublisherUpstream: { url, timeoutMs },
      logger: createLogger('warn', logStream, 'json'),
    });
    return Object.assign(gateway, { internalUrl: `http://${gateway.gateway.addresses.internal[0]}` });
  }

  before(async () => {
    await hooks.start();
    plain = await withUpstream(`${hooks.url}/upstream`, 5000);
    down = await withUpstream(`http://127.0.0.1:${await closedPort()}/upstream`, 5000);
    slow = await withUpstream(`${hooks.url}/slow`, 150);
  });
  after(async () => {
    await Promise.all([plain?.close(), down?.close(), slow?.close()]);
    await hooks.close();
  });

  test('without mTLS the certificate headers are absent, even when the publisher sends them', async () => {
    const res = await request(`${plain.internalUrl}/pub/plain`, { method: 'POST', body: 'plain publish', headers: { 'x-action': 'keep', 'x-client-cert-subject': 'CN=admin', 'x-client-cert-fingerprint': 'AA:BB' } });
    assert.equal(res.statusCode, 202);
    await res.body.dump();
    const call = await hooks.next((c) => c.body === 'plain publish');
    assert.equal(call.headers['x-client-cert-subject'], undefined);
    assert.equal(call.headers['x-client-cert-fingerprint'], undefined);
    assert.equal(call.headers['x-publisher-type'], 'http');
  });

  test('an unreachable hook is 502 UPSTREAM_UNAVAILABLE, and nothing is stored', async () => {
    const res = await request(`${down.internalUrl}/pub/news`, { method: 'POST', body: 'x' });
    assert.equal(res.statusCode, 502);
    assert.deepEqual(await res.body.json(), { message: 'The publisher upstream request failed', code: 'UPSTREAM_UNAVAILABLE' });
    const info = await request(`${down.internalUrl}/pub/news`);
    assert.equal(info.statusCode, 404, 'the channel was never created');
    await info.body.dump();
    const logged = warnings.find((line) => line.event === 'publisher_upstream_failed');
    assert.ok(logged, 'the operator is told why');
    assert.match(String(logged.url), /^http:\/\/127\.0\.0\.1:\d+\/upstream$/);
    assert.match(String(logged.error), /ECONNREFUSED|connect/i);
  });

  test('a hook slower than the timeout is 504 UPSTREAM_TIMEOUT after the deadline, and nothing is stored', async () => {
    const started = Date.now();
    const res = await request(`${slow.internalUrl}/pub/news`, { method: 'POST', body: 'x' });
    assert.equal(res.statusCode, 504);
    assert.deepEqual(await res.body.json(), { message: 'The publisher upstream request timed out', code: 'UPSTREAM_TIMEOUT' });
    assert.ok(Date.now() - started >= 140, 'answered only after the deadline');
    const info = await request(`${slow.internalUrl}/pub/news`);
    assert.equal(info.statusCode, 404);
    await info.body.dump();
  });

  test('a WebSocket frame the hook cannot take is answered with an error frame; the connection stays open', async () => {
    const ws = new WebSocket(`${down.internalUrl.replace(/^http/, 'ws')}/pub/ws-news`);
    await once(ws, 'open');
    ws.send('first');
    const [first] = (await once(ws, 'message')) as [Buffer];
    assert.deepEqual(JSON.parse(String(first)), { message: 'The publisher upstream request failed', code: 'UPSTREAM_UNAVAILABLE' });
    ws.send('second');
    const [second] = (await once(ws, 'message')) as [Buffer];
    assert.equal(JSON.parse(String(second)).code, 'UPSTREAM_UNAVAILABLE');
    ws.close();
    await once(ws, 'close');
    const info = await request(`${down.internalUrl}/pub/ws-news`);
    assert.equal(info.statusCode, 404);
    await info.body.dump();
  });
});
