import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'undici';
import WebSocket from 'ws';
import { startGatewayWithInternal, type TestGateway } from '../helpers/gateway.ts';
import { admin, waitForAdmin } from '../helpers/admin-requests.ts';

const ALICE_ID = '5c7e0d3a-1111-4b8e-9a6e-0c1d2e3f4a5b';
const CONFIG = `_format_version: "3.0"
consumers:
  - username: alice
    id: ${ALICE_ID}
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
  - username: idle
    keyauth_credentials: [{ key: idle-key }]
routes:
  - name: room
    paths: ["~/rooms/(?<room>[a-z0-9-]+)$"]
    plugins:
      - name: key-auth
      - name: pubsub-subscriber
        config: { channels: ["room:$(uri_captures.room)"], transports: [eventsource, websocket, longpoll] }
`;

interface Streams {
  consumer: string;
  open?: number;
  closed?: number;
}

describe('Admin API: revoking the open streams of one consumer', () => {
  let gw: TestGateway;
  let internal: string;

  before(async () => {
    const started = await startGatewayWithInternal(CONFIG);
    gw = started;
    internal = started.internalUrl;
  });
  after(() => gw.close());

  const sse = (key: string) => request(`${gw.proxyUrl}/rooms/lobby?apikey=${key}`, { headers: { accept: 'text/event-stream' } });

  test('DELETE /consumers/{name}/streams ends its EventSource, WebSocket and long-poll streams, and only those', async () => {
    const aliceSse = await sse('alice-key');
    assert.equal(aliceSse.statusCode, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/rooms/lobby`, { headers: { apikey: 'alice-key' } });
    await once(ws, 'open');
    const wsClosed = once(ws, 'close');
    const poll = request(`${gw.proxyUrl}/rooms/lobby`, { headers: { apikey: 'alice-key' } });
    const bobSse = await sse('bob-key');
    const bobChunks = bobSse.body[Symbol.asyncIterator]();
    assert.match(String((await bobChunks.next()).value), /^: hi/);
    await waitForAdmin<Streams>(gw.adminUrl, '/consumers/alice/streams', (a) => a.body.open === 3);
    assert.deepEqual((await admin<Streams>(gw.adminUrl, '/consumers/bob/streams')).body.open, 1);

    const revoked = await admin<Streams>(gw.adminUrl, '/consumers/alice/streams', 'DELETE');
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoked.body, { consumer: ALICE_ID, closed: 3 });

    assert.match(await aliceSse.body.text(), /: REVOKED\nevent: revoked\ndata: \{"code":"REVOKED"\}\n\n$/);
    const [code, reason] = (await wsClosed) as [number, Buffer];
    assert.deepEqual([code, String(reason)], [4403, 'REVOKED']);
    const polled = await poll;
    assert.equal(polled.statusCode, 403);
    await polled.body.dump();

    const published = await request(`${internal}/pub/room%3Alobby`, { method: 'POST', body: 'still here', headers: { accept: 'application/json' } });
    assert.equal(published.statusCode, 201);
    assert.equal(((await published.body.json()) as { subscribers: number }).subscribers, 1, 'only bob is left');
    assert.match(String((await bobChunks.next()).value), /data: still here/);
    await bobChunks.return?.();
    assert.deepEqual((await admin<Streams>(gw.adminUrl, `/consumers/${ALICE_ID}/streams`)).body, { consumer: ALICE_ID, open: 0 });
  });

  test('revoking by id; a consumer without streams closes 0; reconnecting goes through the plugins again', async () => {
    const again = await sse('alice-key');
    assert.equal(again.statusCode, 200, 'revocation closes streams, it does not lock the consumer out');
    await waitForAdmin<Streams>(gw.adminUrl, `/consumers/${ALICE_ID.toUpperCase()}/streams`, (a) => a.body.open === 1);
    const byId = await admin<Streams>(gw.adminUrl, `/consumers/${ALICE_ID}/streams`, 'DELETE');
    assert.deepEqual(byId.body, { consumer: ALICE_ID, closed: 1 });
    assert.match(await again.body.text(), /event: revoked/);
    const idle = await admin<Streams>(gw.adminUrl, '/consumers/idle/streams', 'DELETE');
    assert.equal(idle.status, 200);
    assert.equal(idle.body.closed, 0);
  });

  test('unknown consumers are 404, other methods 405, both Kong-shaped', async () => {
    for (const method of ['GET', 'DELETE']) {
      const missing = await admin(gw.adminUrl, '/consumers/nobody/streams', method);
      assert.equal(missing.status, 404, method);
      assert.deepEqual(missing.body, { message: 'Not found' });
    }
    assert.equal((await admin(gw.adminUrl, '/consumers/%E0%A4%A/streams', 'DELETE')).status, 404);
    const post = await admin(gw.adminUrl, '/consumers/alice/streams', 'POST');
    assert.equal(post.status, 405);
    assert.deepEqual(post.body, { message: 'Method not allowed' });
  });
});
