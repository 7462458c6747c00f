/**
 * Long-poll and interval-poll transports, driven through a tiny real HTTP server that builds a
 * SubscriberExchange per request (channels from the path: `/sub/a,b,c`). Header shapes follow
 * real nchan (test/differential/nchan-reference.test.ts).
 */
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, describe, it } from 'node:test';
import { createHub, toHttpHeaders, type Hub } from '../../src/pubsub/index.ts';
import { intervalpollTransport } from '../../src/pubsub/transports/intervalpoll.ts';
import { longpollTransport, POLL_VARY } from '../../src/pubsub/transports/longpoll.ts';
import type { SubscriberOptions, Transport } from '../../src/pubsub/transports/types.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { SUBSCRIBER_DEFAULTS, observedEngine } from '../helpers/pubsub.ts';

const OPTIONS: SubscriberOptions = SUBSCRIBER_DEFAULTS;


interface Harness {
  readonly hub: Hub;
  readonly url: (channels: string) => string;
  /** Resolves once the next subscription to `channel` receives live messages; call before the request. */
  subscribed(channel: string): Promise<void>;
  /** Every serve() started so far has returned. */
  idle(): Promise<void>;
}

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function harness(transport: Transport, options: Partial<SubscriberOptions> = {}): Promise<Harness> {
  const { engine, subscribed } = observedEngine();
  const hub = createHub({ engine });
  const serving: Promise<void>[] = [];
  let n = 0;
  const server = await startServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const channels = decodeURIComponent(path.replace(/^\/sub\//, '')).split(',');
    serving.push(
      transport.serve({
        req,
        res,
        channels,
        hub,
        options: { ...OPTIONS, ...options },
        requestId: `req-${++n}`,
        writeHead: async (status, headers) => void res.writeHead(status, headers),
      }),
    );
  });
  servers.push(server);
  return {
    hub,
    url: (channels) => `${server.url}/sub/${channels}`,
    subscribed,
    idle: async () => void (await Promise.all(serving)),
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The If-* headers for the poll after `a`. */
function next(a: Answer): Record<string, string> {
  return { 'if-modified-since': a.headers['last-modified']!, 'if-none-match': a.headers.etag! };
}

let seq = 0;
const channel = (label: string) => `${label}-${++seq}`;

describe('long-poll transport', () => {
  it('walks three buffered messages with If-Modified-Since / If-None-Match, one per response', async () => {
    const h = await harness(longpollTransport);
    const ch = channel('walk');
    const published = [];
    for (const body of ['one', 'two', 'three']) published.push(await h.hub.publish(ch, { data: Buffer.from(body), contentType: 'text/x-test' }));

    let headers: Record<string, string> = {};
    for (const [i, body] of ['one', 'two', 'three'].entries()) {
      const a = await get(h.url(ch), headers);
      const { lastModified, etag } = toHttpHeaders(published[i]!.message.id);
      assert.equal(a.status, 200);
      assert.equal(a.body, body);
      assert.equal(a.headers['content-type'], 'text/x-test');
      assert.equal(a.headers['last-modified'], lastModified);
      assert.equal(a.headers.etag, etag);
      assert.match(a.headers.etag!, /^\d+$/);
      assert.equal(a.headers.vary, POLL_VARY);
      headers = next(a);
    }
    // asking again with the first answer's headers gives the second message again
    const again = await get(h.url(ch), { 'if-modified-since': toHttpHeaders(published[0]!.message.id).lastModified, 'if-none-match': toHttpHeaders(published[0]!.message.id).etag });
    assert.equal(again.body, 'two');
    // each poll took exactly one message and released its subscription
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('waits for the next message when nothing newer is buffered', async () => {
    const h = await harness(longpollTransport);
    const ch = channel('live');
    const first = await h.hub.publish(ch, { data: Buffer.from('one'), contentType: 'text/plain' });
    const { lastModified, etag } = toHttpHeaders(first.message.id);
    const attached = h.subscribed(ch);
    const waiting = get(h.url(ch), { 'if-modified-since': lastModified, 'if-none-match': etag });
    await attached;
    assert.equal((await h.hub.info(ch))?.subscribers, 1);
    const live = await h.hub.publish(ch, { data: Buffer.from('four'), contentType: 'text/x-live' });
    assert.equal(live.channel.subscribers, 1); // nchan: 201
    const a = await waiting;
    assert.equal(a.status, 200);
    assert.equal(a.body, 'four');
    assert.equal(a.headers['content-type'], 'text/x-live');
    assert.equal(a.headers.etag, toHttpHeaders(live.message.id).etag);
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('answers 408 after subscriberTimeout seconds', async () => {
    const h = await harness(longpollTransport, { subscriberTimeout: 0.1 });
    const ch = channel('timeout');
    const started = Date.now();
    const a = await get(h.url(ch));
    assert.equal(a.status, 408);
    assert.equal(a.body, '');
    assert.ok(Date.now() - started >= 90, 'not before the timeout');
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('answers 410 with only Vary when the channel is deleted while waiting', async () => {
    const h = await harness(longpollTransport);
    const ch = channel('deleted');
    const attached = h.subscribed(ch);
    const waiting = get(h.url(ch));
    await attached;
    await h.hub.delete(ch);
    const a = await waiting;
    assert.equal(a.status, 410);
    assert.equal(a.body, '');
    assert.equal(a.headers.vary, POLL_VARY);
    assert.equal(a.headers.etag, undefined);
    assert.equal(a.headers['last-modified'], undefined);
    assert.equal(a.headers['content-type'], undefined);
  });

  it('sends the multiplexed tag part as Etag (-,[n],-) and resumes from it', async () => {
    const h = await harness(longpollTransport);
    const ids = [channel('mx-a'), channel('mx-b'), channel('mx-c')];
    const middle = await h.hub.publish(ids[1]!, { data: Buffer.from('middle'), contentType: 'text/plain' });
    const a = await get(h.url(ids.join(',')));
    assert.equal(a.status, 200);
    assert.equal(a.body, 'middle');
    assert.equal(a.headers.etag, `-,[${middle.message.id.tags[0]}],-`);
    assert.equal(a.headers['last-modified'], toHttpHeaders(middle.message.id).lastModified);
    assert.equal(a.headers.vary, POLL_VARY);

    const attached = h.subscribed(ids[2]!);
    const waiting = get(h.url(ids.join(',')), next(a));
    await attached;
    await h.hub.publish(ids[2]!, { data: Buffer.from('last'), contentType: 'text/plain' });
    const b = await waiting;
    assert.equal(b.body, 'last');
    // same second: the middle slot keeps its tag; a new second resets the others to `-`
    assert.match(b.headers.etag!, /^(-,\d+,\[\d+\]|-,-,\[\d+\])$/);
  });

  it('closes the subscription when the client goes away', async () => {
    const h = await harness(longpollTransport);
    const ch = channel('gone');
    const attached = h.subscribed(ch);
    const abort = new AbortController();
    const waiting = get(h.url(ch), {}, abort.signal).catch((e: unknown) => e);
    await attached;
    assert.equal((await h.hub.counters()).subscribers, 1);
    abort.abort();
    assert.ok((await waiting) instanceof Error);
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });

  it('answers 400 to a malformed message id', async () => {
    const h = await harness(longpollTransport);
    const a = await get(h.url(channel('bad')), { 'last-event-id': ':0' });
    assert.equal(a.status, 400);
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });
});

describe('interval-poll transport', () => {
  it('answers 304 at once when there is nothing, 200 with the message, then 304 repeating Etag/Last-Modified', async () => {
    const h = await harness(intervalpollTransport);
    const ch = channel('ip');
    const empty = await get(h.url(ch));
    assert.equal(empty.status, 304);
    assert.equal(empty.headers.vary, POLL_VARY);
    assert.equal(empty.headers.etag, undefined);
    assert.equal(empty.headers['last-modified'], undefined);

    const published = await h.hub.publish(ch, { data: Buffer.from('hello'), contentType: 'text/plain' });
    const first = await get(h.url(ch));
    assert.equal(first.status, 200);
    assert.equal(first.body, 'hello');
    assert.equal(first.headers['content-type'], 'text/plain');
    assert.equal(first.headers.etag, toHttpHeaders(published.message.id).etag);
    assert.equal(first.headers['last-modified'], toHttpHeaders(published.message.id).lastModified);
    assert.equal(first.headers.vary, POLL_VARY);

    const none = await get(h.url(ch), next(first));
    assert.equal(none.status, 304);
    assert.equal(none.body, '');
    assert.equal(none.headers.etag, first.headers.etag);
    assert.equal(none.headers['last-modified'], first.headers['last-modified']);
    assert.equal(none.headers.vary, POLL_VARY);

    await h.hub.publish(ch, { data: Buffer.from('again'), contentType: 'text/plain' });
    const second = await get(h.url(ch), next(first));
    assert.equal(second.status, 200);
    assert.equal(second.body, 'again');
    await h.idle();
    assert.equal((await h.hub.counters()).subscribers, 0);
  });
});
