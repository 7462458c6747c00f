/**
 * The publisher API on a real HTTP server (port 0) running createInternalPubsubHandler over a
 * memory-engine hub. Channel-info bytes are compared with what test/differential observed on
 * real nchan (`\r\n` lines, text/json, quoted YAML id, …).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createHub, createMemoryEngine, formatMessageId, type EndReason, type Message, type Sink } from '../../src/pubsub/index.ts';
import { createInternalPubsubHandler, formatChannelInfo } from '../../src/pubsub/publisher/index.ts';

const engine = createMemoryEngine();
const hub = createHub({ engine });
const pubsub = createInternalPubsubHandler({ hub, maxBodySize: 1024, maxChannelIdLength: 64 });
const server: Server = createServer(pubsub.request);
server.on('upgrade', pubsub.upgrade);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

after(async () => {
  pubsub.close();
  await hub.close();
  await engine.close();
  await new Promise((r) => server.close(r));
});

let n = 0;
const channel = (label: string) => `${label}-${process.pid}-${++n}`;
const url = (id: string) => `${base}/pub/${encodeURIComponent(id)}`;

function fakeSink() {
  const messages: Message[] = [];
  const ended: EndReason[] = [];
  const sink: Sink = {
    deliver: (m) => (messages.push(m), true),
    end: (reason) => void ended.push(reason),
  };
  return { sink, messages, ended };
}

/** One raw request (fetch cannot send arbitrary methods with bodies or read 1xx quirks). */
function raw(method: string, target: string, body?: Buffer | string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest(target, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('publish: 202 without subscribers, 201 with one; content type and event name stored', async () => {
  const id = channel('status');
  const first = await fetch(url(id), { method: 'POST', body: 'first', headers: { 'content-type': 'text/x-test', 'x-eventsource-event': 'greet' } });
  assert.equal(first.status, 202);
  assert.equal(first.headers.get('content-type'), 'text/plain');
  assert.match(await first.text(), /^queued messages: 1\r\nlast requested: -1 sec\. ago\r\nactive subscribers: 0\r\nlast message id: \d+:0$/);

  const { sink, messages } = fakeSink();
  const sub = await hub.subscribe([id], { kind: 'oldest' }, sink);
  assert.equal(messages[0]?.contentType, 'text/x-test');
  assert.equal(messages[0]?.eventName, 'greet');
  assert.equal(messages[0]?.data.toString(), 'first');

  const second = await fetch(url(id), { method: 'PUT', body: 'second', headers: { accept: 'text/json' } });
  assert.equal(second.status, 201);
  assert.equal(second.headers.get('content-type'), 'text/json');
  const info = (await second.json()) as { messages: number; subscribers: number; requested: number };
  assert.equal(info.messages, 2);
  assert.equal(info.subscribers, 1);
  assert.ok(info.requested >= 0);
  assert.equal(messages[1]?.data.toString(), 'second');
  assert.equal(messages[1]?.contentType, 'text/plain;charset=UTF-8', 'the request Content-Type as sent (fetch labels string bodies)');
  await sub.close();
});

test('GET channel info: 404 unknown, then all four formats byte for byte', async () => {
  const id = channel('info');
  const unknown = await raw('GET', url(id));
  assert.deepEqual([unknown.status, unknown.body], [404, '']);
  await fetch(url(id), { method: 'POST', body: 'a' });
  const { message } = await hub.publish(id, { data: Buffer.from('b') });
  const lastId = formatMessageId(message.id);
  const plain = `queued messages: 2\r\nlast requested: -1 sec. ago\r\nactive subscribers: 0\r\nlast message id: ${lastId}`;
  const json = `{"messages": 2, "requested": -1, "subscribers": 0, "last_message_id": "${lastId}" }`;
  const xml = `<?xml version="1.0" encoding="UTF-8" ?>\r\n<channel>\r\n  <messages>2</messages>\r\n  <requested>-1</requested>\r\n  <subscribers>0</subscribers>\r\n  <last_message_id>${lastId}</last_message_id>\r\n</channel>`;
  const yaml = `---\r\nmessages: 2\r\nrequested: -1\r\nsubscribers: 0\r\nlast_message_id: "${lastId}"\r\n\r\n`;
  const expected: Record<string, [string, string]> = {
    '': ['text/plain', plain],
    'text/plain': ['text/plain', plain],
    'application/json': ['text/json', json],
    'text/json': ['text/json', json],
    'application/xml': ['text/xml', xml],
    'text/xml': ['text/xml', xml],
    'text/yaml': ['text/yaml', yaml],
    'application/yaml': ['text/yaml', yaml],
    'application/x-yaml': ['text/yaml', yaml],
    'text/html, application/xml;q=0.9': ['text/xml', xml],
    'image/png': ['text/plain', plain],
  };
  for (const [accept, [contentType, body]] of Object.entries(expected)) {
    const res = await raw('GET', url(id), undefined, accept ? { accept } : {});
    assert.equal(res.status, 200, accept);
    assert.equal(res.headers['content-type'], contentType, accept);
    assert.equal(res.body, body, accept);
  }
});

test('formatChannelInfo: null prints zeros and 0:0 as nchan', () => {
  assert.deepEqual(formatChannelInfo(null, undefined), {
    contentType: 'text/plain',
    body: 'queued messages: 0\r\nlast requested: -1 sec. ago\r\nactive subscribers: 0\r\nlast message id: 0:0',
  });
});

test('DELETE ends subscriptions with CHANNEL_DELETED and answers the info; 404 unknown and afterwards', async () => {
  const id = channel('del');
  await fetch(url(id), { method: 'POST', body: 'x' });
  const { sink, ended } = fakeSink();
  await hub.subscribe([id], { kind: 'newest' }, sink);
  const del = await raw('DELETE', url(id));
  assert.equal(del.status, 200);
  // as nchan: buffer already emptied, the subscriber still counted
  assert.match(del.body, /^queued messages: 0\r\nlast requested: \d+ sec\. ago\r\nactive subscribers: 1\r\nlast message id: \d+:0$/);
  assert.deepEqual(ended, ['CHANNEL_DELETED']);
  // Sluice divergence (documented in http-publisher.ts): nchan answers 200 with zeros here.
  assert.equal((await raw('GET', url(id))).status, 404);
  assert.equal((await raw('DELETE', url(channel('none')))).status, 404);
});

test('limits: body over maxBodySize → 413 JSON, id too long → 403, other methods → 405, bad paths', async () => {
  const big = await raw('POST', url(channel('big')), Buffer.alloc(2048, 'x'));
  assert.equal(big.status, 413);
  assert.deepEqual(JSON.parse(big.body), { message: 'request body exceeds 1024 bytes', code: 'MESSAGE_TOO_LARGE' });
  const chunked = await raw('POST', url(channel('big')), Buffer.alloc(2048, 'x'), { 'transfer-encoding': 'chunked' });
  assert.equal(chunked.status, 413);

  const long = await raw('POST', url('x'.repeat(65)), 'hi');
  assert.deepEqual([long.status, long.body], [403, '']);
  assert.equal((await raw('POST', url('x'.repeat(64)), 'hi')).status, 202);

  const patch = await raw('PATCH', url(channel('m')), 'x');
  assert.equal(patch.status, 405);
  assert.equal(patch.headers.allow, 'GET, POST, PUT, DELETE, OPTIONS');

  assert.equal((await raw('GET', `${base}/sub/x`)).status, 404);
  assert.equal((await raw('GET', `${base}/pub/`)).status, 400);
  assert.equal((await raw('GET', `${base}/pub/a%0Ab`)).status, 400);
  assert.equal((await raw('GET', `${base}/pub/%E0%A4%A`)).status, 400);
  // percent-decoded id: the same channel as the raw one
  await fetch(`${base}/pub/a%20b`, { method: 'POST', body: 'x' });
  assert.notEqual(await hub.info('a b'), null);
});

test('OPTIONS is the CORS preflight', async () => {
  const res = await raw('OPTIONS', url(channel('cors')), undefined, { origin: 'https://app.example' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, PUT, DELETE');
  assert.match(String(res.headers['access-control-allow-headers']), /Content-Type.*X-EventSource-Event/);
});

test('WebSocket publishing: text and binary frames, channel info reply in the Accept format', async () => {
  const id = channel('ws');
  const { sink, messages } = fakeSink();
  const sub = await hub.subscribe([id], { kind: 'newest' }, sink);
  const ws = new WebSocket(url(id).replace(/^http/, 'ws'), { headers: { accept: 'text/json' } });
  const replies: string[] = [];
  const got = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (replies.length >= count ? resolve() : undefined);
      ws.on('message', (data) => {
        replies.push(String(data));
        check();
      });
      check();
    });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const two = got(2);
  ws.send('hello');
  ws.send(Buffer.from([0x62, 0x01]), { binary: true });
  await two;
  const parsed = replies.map((r) => JSON.parse(r) as { messages: number; subscribers: number });
  assert.deepEqual(parsed.map((p) => [p.messages, p.subscribers]), [[1, 1], [2, 1]]);
  assert.equal(messages[0]?.data.toString(), 'hello');
  assert.equal(messages[0]?.contentType, undefined);
  assert.deepEqual([...(messages[1]?.data ?? [])], [0x62, 0x01]);
  assert.equal(messages[1]?.contentType, 'application/octet-stream');
  ws.close();
  await sub.close();

  // the default format is text/plain; unknown paths are refused at the handshake
  const plain = new WebSocket(url(channel('ws-plain')).replace(/^http/, 'ws'));
  await new Promise((r, j) => plain.once('open', r).once('error', j));
  plain.send('x');
  const reply = await new Promise<string>((r) => plain.once('message', (d) => r(String(d))));
  assert.match(reply, /^queued messages: 1\r\nlast requested: -1 sec\. ago\r\nactive subscribers: 0\r\nlast message id: \d+:0$/);
  plain.close();
  const refused = new WebSocket(`${base.replace(/^http/, 'ws')}/nope`);
  const status = await new Promise<number>((r) => refused.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)).once('error', () => r(-1)));
  assert.equal(status, 404);
});
