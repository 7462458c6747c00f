import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { snapshotFrom, startGateway } from '../helpers/gateway.ts';

/** An upstream that holds each request until `release()` and says who answered. */
async function heldUpstream(name: string): Promise<TestServer & { release(): void; arrived: Promise<void> }> {
  let release = () => {};
  let arrivedResolve = () => {};
  const arrived = new Promise<void>((resolve) => (arrivedResolve = resolve));
  const held = new Promise<void>((resolve) => (release = resolve));
  const server = await startServer((req, res) => {
    if (req.url?.includes('hold')) {
      arrivedResolve();
      void held.then(() => res.end(name));
    } else res.end(name);
  });
  return Object.assign(server, { release: () => release(), arrived });
}

const config = (url: string) => `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${url}\n    routes:\n      - paths: [/]\n`;

describe('config reload and drain', () => {
  test('reload swaps the config atomically; a request in flight finishes on the old one', async () => {
    const a = await heldUpstream('a');
    const b = await heldUpstream('b');
    const gw = await startGateway(config(a.url));
    try {
      const inFlight = request(`${gw.proxyUrl}/hold`);
      await a.arrived;
      await gw.gateway.reload(snapshotFrom(config(b.url)));
      assert.equal(await (await request(gw.proxyUrl)).body.text(), 'b', 'new requests use the new config');
      a.release();
      const old = await inFlight;
      assert.equal(old.statusCode, 200);
      assert.equal(await old.body.text(), 'a', 'the in-flight request completed on the old config');
      const status = (await (await request(`${gw.adminUrl}/status`)).body.json()) as { configuration_hash: string };
      assert.equal(status.configuration_hash, gw.gateway.current.snapshot.hash);
    } finally {
      await gw.close();
      await a.close();
      await b.close();
    }
  });

  test('stop lets in-flight requests finish, then refuses new connections', async () => {
    const a = await heldUpstream('a');
    const gw = await startGateway(config(a.url));
    const inFlight = request(`${gw.proxyUrl}/hold`);
    await a.arrived;
    const stopped = gw.close();
    a.release();
    const res = await inFlight;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'a');
    await stopped;
    await assert.rejects(request(gw.proxyUrl), /ECONNREFUSED/);
    await a.close();
  });

  test('stop closes requests that outlive the drain timeout', async () => {
    const never = await startServer(() => {});
    const gw = await startGateway(config(never.url), { drainTimeoutMs: 100 });
    const inFlight = request(`${gw.proxyUrl}/hold`).then(
      (res) => res.statusCode,
      (error: Error) => error.message,
    );
    await new Promise<void>((resolve) => never.server.once('request', () => resolve()));
    await gw.close();
    assert.notEqual(await inFlight, 200);
    await never.close();
  });
});
