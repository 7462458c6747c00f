/**
 * Hot reload keeps subscribers (issue 5, item 3): every open stream is re-checked against the new
 * config. It stays open while its route exists and the route's plugins still let its request in;
 * otherwise it ends with a reconnect hint each transport renders its way.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { openStream, type Stream } from '../differential/observe.ts';
import { snapshotFrom, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startServer } from '../helpers/servers.ts';
import { heldStreams, openWebSocket } from '../helpers/streams.ts';
import { registryWithTestPlugins } from '../helpers/test-plugins.ts';

interface Variant {
  /** Consumers whose key-auth credential is gone. */
  readonly revoked?: readonly string[];
  readonly bobGroup?: string;
  readonly deny?: readonly string[];
  /** Keep the `other` route. */
  readonly other?: boolean;
  readonly newsChannels?: string;
  /** An unrelated route, to make a reload that changes nothing for the streams. */
  readonly extra?: boolean;
  readonly authorizeUrl?: string;
}

const key = (name: string, v: Variant) => (v.revoked?.includes(name) ? '[]' : `[{ key: ${name}-key }]`);

const config = (v: Variant = {}) => `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: ${key('alice', v)}
    acls: [{ group: readers }]
  - username: bob
    keyauth_credentials: ${key('bob', v)}
    acls: [{ group: ${v.bobGroup ?? 'readers'} }]
routes:
  - name: news
    paths: [/news]
    plugins:
      - name: key-auth
      - name: acl
        config: { allow: [readers] }
      - name: ip-restriction
        config: { deny: [${(v.deny ?? ['192.0.2.1']).join(', ')}] }
      - name: pubsub-subscriber
        config: { channels: [${v.newsChannels ?? 'news'}], transports: [eventsource, websocket, longpoll], first_message: newest }
  - name: limited
    paths: [/limited]
    plugins:
      - name: key-auth
      - name: rate-limiting
        config: { minute: 3, policy: local, limit_by: header, header_name: x-client }
      - name: pubsub-subscriber
        config: { channels: [news], first_message: newest }
${v.other === false ? '' : `  - name: other
    paths: [/other]
    plugins:
      - name: pubsub-subscriber
        config: { channels: [other], first_message: newest }
`}${v.extra ? `  - name: extra
    paths: [/extra]
    plugins: [{ name: request-termination }]
` : ''}${v.authorizeUrl ? `  - name: hooked
    paths: [/hooked]
    plugins:
      - name: key-auth
      - name: pubsub-subscriber
        config: { channels: [news], first_message: newest, authorize_url: "${v.authorizeUrl}" }
` : ''}`;

const SSE = { accept: 'text/event-stream' };

/** An EventSource stream (raw, to see every byte of the farewell) that the gateway let in. */
async function subscribe(url: string, headers: Record<string, string>): Promise<Stream> {
  const stream = await openStream(url, headers);
  assert.equal(stream.status, 200, `${url} opens a stream`);
  return stream;
}

async function withGateway(v: Variant, body: (gw: TestGateway) => Promise<void>): Promise<void> {
  const gw = await startGateway(config(v), { trustedIps: ['127.0.0.1'] });
  try {
    await body(gw);
  } finally {
    await gw.close();
  }
}

const held = (gw: TestGateway, count: number) => heldStreams(gw.gateway, count);

const publish = (gw: TestGateway, channel: string, data: string) => gw.gateway.hub.publish(channel, { data: Buffer.from(data) });

const farewell = (reason: string) => `: ${reason}\nretry: 1000\nevent: ${reason.toLowerCase()}\ndata: {"code":"${reason}"}\n\n`;

describe('reload re-checks open subscriber streams', () => {
  test('a reload that still admits every stream keeps them all open and delivering', async () => {
    await withGateway({}, async (gw) => {
      const sse = await subscribe(`${gw.proxyUrl}/news?apikey=alice-key`, SSE);
      const ws = await openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/news?apikey=bob-key`);
      const poll = request(`${gw.proxyUrl}/other`);
      await held(gw, 3);

      const result = await gw.gateway.reload(snapshotFrom(config({ extra: true })));
      assert.deepEqual(result, { configHash: gw.gateway.current.snapshot.hash, kept: 3, closed: 0, closedBy: {} });

      await publish(gw, 'news', 'after the reload');
      await publish(gw, 'other', 'to the poll');
      await sse.until((t) => t.includes('data: after the reload'));
      assert.deepEqual(await ws.received(1), ['after the reload']);
      const polled = await poll;
      assert.equal(polled.statusCode, 200);
      assert.equal(await polled.body.text(), 'to the poll');
      assert.equal((await request(`${gw.proxyUrl}/extra`)).statusCode, 503, 'the new config is live');
      ws.ws.close();
    });
  });

  test("a revoked key closes that consumer's streams on every transport; the others keep receiving", async () => {
    await withGateway({}, async (gw) => {
      const aliceSse = await subscribe(`${gw.proxyUrl}/news?apikey=alice-key`, SSE);
      const aliceWs = await openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/news`, { headers: { apikey: 'alice-key' } });
      const alicePoll = request(`${gw.proxyUrl}/news?apikey=alice-key`);
      await held(gw, 3);
      const bob = await subscribe(`${gw.proxyUrl}/news?apikey=bob-key`, SSE);
      assert.equal(gw.gateway.openStreams, 4);

      const result = await gw.gateway.reload(snapshotFrom(config({ revoked: ['alice'] })));
      assert.deepEqual([result.kept, result.closed, result.closedBy], [1, 3, { RECHECK_FAILED: 3 }]);

      assert.equal((await aliceSse.ended).replace(/^: hi\n\n/, ''), farewell('RECHECK_FAILED'), 'EventSource: retry hint and an event');
      assert.deepEqual(await aliceWs.closed, { code: 4403, reason: 'RECHECK_FAILED' });
      const refused = await alicePoll;
      assert.equal(refused.statusCode, 403, 'a waiting long-poll is answered');
      await refused.body.dump();

      await publish(gw, 'news', 'bob still hears this');
      await bob.until((t) => t.includes('data: bob still hears this'));
      const again = await request(`${gw.proxyUrl}/news?apikey=alice-key`, { headers: SSE });
      assert.equal(again.statusCode, 401, 'the reconnect gets the new answer');
      await again.body.dump();
    });
  });

  test('an acl group removed closes the streams of consumers no longer in it', async () => {
    await withGateway({}, async (gw) => {
      const alice = await subscribe(`${gw.proxyUrl}/news?apikey=alice-key`, SSE);
      const bob = await openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/news?apikey=bob-key`);
      const result = await gw.gateway.reload(snapshotFrom(config({ bobGroup: 'visitors' })));
      assert.deepEqual(result.closedBy, { RECHECK_FAILED: 1 });
      assert.deepEqual(await bob.closed, { code: 4403, reason: 'RECHECK_FAILED' });
      await publish(gw, 'news', 'readers only');
      await alice.until((t) => t.includes('data: readers only'));
    });
  });

  test('an ip-restriction deny added closes the streams from that address only', async () => {
    await withGateway({}, async (gw) => {
      const denied = await subscribe(`${gw.proxyUrl}/news?apikey=alice-key`, { ...SSE, 'x-real-ip': '10.0.0.1' });
      const allowed = await subscribe(`${gw.proxyUrl}/news?apikey=alice-key`, { ...SSE, 'x-real-ip': '10.0.0.2' });
      const result = await gw.gateway.reload(snapshotFrom(config({ deny: ['10.0.0.1'] })));
      assert.deepEqual([result.kept, result.closedBy], [1, { RECHECK_FAILED: 1 }]);
      assert.equal((await denied.ended).replace(/^: hi\n\n/, ''), farewell('RECHECK_FAILED'));
      await publish(gw, 'news', 'still allowed');
      await allowed.until((t) => t.includes('data: still allowed'));
    });
  });

  test('a removed route closes its streams with ROUTE_REMOVED, a changed channel list with ROUTE_CHANGED', async () => {
    await withGateway({}, async (gw) => {
      const otherSse = await subscribe(`${gw.proxyUrl}/other`, SSE);
      const otherWs = await openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/other`);
      const newsWs = await openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/news?apikey=bob-key`);
      const newsPoll = request(`${gw.proxyUrl}/news?apikey=alice-key`);
      const otherPoll = request(`${gw.proxyUrl}/other`);
      await held(gw, 5);

      const result = await gw.gateway.reload(snapshotFrom(config({ other: false, newsChannels: 'headlines' })));
      assert.deepEqual(result.closedBy, { ROUTE_REMOVED: 3, ROUTE_CHANGED: 2 });
      const removed = await otherPoll;
      assert.equal(removed.statusCode, 404, 'a waiting long-poll on a removed route');
      await removed.body.dump();
      assert.equal((await otherSse.ended).replace(/^: hi\n\n/, ''), farewell('ROUTE_REMOVED'));
      assert.deepEqual(await otherWs.closed, { code: 4404, reason: 'ROUTE_REMOVED' });
      assert.deepEqual(await newsWs.closed, { code: 1012, reason: 'ROUTE_CHANGED' }, '1012 "service restart": reconnect now');
      const answered = await newsPoll;
      assert.deepEqual([answered.statusCode, answered.headers['retry-after']], [503, '0']);
      await answered.body.dump();
      assert.equal(gw.gateway.openStreams, 0);
    });
  });

  test('re-checks do not count against rate-limiting', async () => {
    await withGateway({}, async (gw) => {
      // Local counters live for the process: a client id of its own keeps this test's count.
      const url = `${gw.proxyUrl}/limited?apikey=alice-key`;
      const headers = { ...SSE, 'x-client': `recheck-${process.pid}-${Date.now()}` };
      const first = await subscribe(url, headers);
      const second = await subscribe(url, headers);
      for (let i = 0; i < 5; i++) assert.equal((await gw.gateway.reload(snapshotFrom(config({ extra: i % 2 === 0 })))).kept, 2);
      const third = await subscribe(url, headers);
      assert.equal(third.status, 200, 'the third request of the minute (limit 3) still passes');
      const fourth = await request(url, { headers });
      assert.equal(fourth.statusCode, 429);
      await fourth.body.dump();
      await publish(gw, 'news', 'all three');
      for (const stream of [first, second, third]) await stream.until((t) => t.includes('data: all three'));
    });
  });

  test('a reload the node cannot compile rejects, keeps the old config and every stream', async () => {
    await withGateway({}, async (gw) => {
      const before = gw.gateway.current.snapshot.hash;
      const sse = await subscribe(`${gw.proxyUrl}/news?apikey=alice-key`, SSE);
      const poll = request(`${gw.proxyUrl}/other`);
      await held(gw, 2);
      // Valid for a node with the test plugins; this one does not have 'faulty'.
      const foreign = snapshotFrom(`${config({ revoked: ['alice'], other: false })}plugins:\n  - name: faulty\n    config: { mode: exit }\n`, registryWithTestPlugins());
      assert.throws(() => gw.gateway.reload(foreign), /plugin 'faulty' not enabled/);
      assert.equal(gw.gateway.current.snapshot.hash, before);
      assert.equal(gw.gateway.openStreams, 2);
      await publish(gw, 'news', 'nothing changed');
      await publish(gw, 'other', 'poll answered');
      await sse.until((t) => t.includes('data: nothing changed'));
      assert.equal(await (await poll).body.text(), 'poll answered');
    });
  });

  test('a stream admitted on the old config while a reload lands is re-checked against the new one', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived = () => {};
    const asked = new Promise<void>((resolve) => (arrived = resolve));
    const hook = await startServer((_req, res) => {
      arrived();
      void held.then(() => res.end());
    });
    try {
      await withGateway({ authorizeUrl: hook.url }, async (gw) => {
        const opening = openStream(`${gw.proxyUrl}/hooked?apikey=alice-key`, SSE);
        await asked; // key-auth let it in; the authorize hook holds it
        const result = await gw.gateway.reload(snapshotFrom(config({ authorizeUrl: hook.url, revoked: ['alice'] })));
        assert.equal(result.closed, 0, 'not subscribed yet when the reload re-checked');
        release();
        const stream = await opening;
        assert.match(await stream.ended, /: RECHECK_FAILED\n/);
        assert.equal(gw.gateway.openStreams, 0);
      });
    } finally {
      release();
      await hook.close();
    }
  });
});
