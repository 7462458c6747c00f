/**
 * Issue 7 item 3: a client's WebSocket over TLS (wss) to the proxy listener is proxied to a plain
 * `ws` upstream and to a `wss` upstream, both ways, with the upstream told the client used TLS.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { testPki } from '../helpers/tls.ts';
import { certificatesYaml } from '../helpers/tls-client.ts';

/** Echoes every frame back prefixed with the X-Forwarded-Proto the upstream saw. */
function echoWebSockets(server: TestServer['server'] | HttpsServer): void {
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    const proto = String(req.headers['x-forwarded-proto']);
    socket.on('message', (data) => socket.send(`${proto}:${String(data)}`));
  });
}

async function echoOverWss(pem: { cert: string; key: string }): Promise<{ server: HttpsServer; port: number }> {
  const server = createHttpsServer({ cert: pem.cert, key: pem.key });
  echoWebSockets(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function roundTrip(url: string, ca: string, text: string): Promise<string> {
  const ws = new WebSocket(url, { ca, servername: 'ws.test' } as WebSocket.ClientOptions);
  try {
    await once(ws, 'open');
    ws.send(text);
    const [data] = (await once(ws, 'message')) as [Buffer];
    return String(data);
  } finally {
    ws.close();
  }
}

describe('WebSocket over TLS (wss) through the proxy listener', () => {
  const pki = testPki();
  let plainUpstream: TestServer;
  let tlsUpstream: { server: HttpsServer; port: number };
  let gw: TestGateway;
  let base: string;

  before(async () => {
    plainUpstream = await startServer((_req, res) => res.end('not a websocket'));
    echoWebSockets(plainUpstream.server);
    tlsUpstream = await echoOverWss(pki.server(['127.0.0.1']));
    const caId = '5f3a8a4e-2b7e-4c1a-9e0b-0f6c2a7d9e11';
    gw = await startGateway(certificatesYaml([{ pem: pki.server(['ws.test']), snis: ['ws.test'] }], {
      ca_certificates: [{ id: caId, cert: pki.ca.cert }],
      services: [
        { name: 'plain-ws', url: plainUpstream.url, routes: [{ name: 'plain-ws', paths: ['/plain'] }] },
        { name: 'tls-ws', url: `https://127.0.0.1:${tlsUpstream.port}`, ca_certificates: [caId], tls_verify: true, routes: [{ name: 'tls-ws', paths: ['/tls'] }] },
      ],
    }), { listen: { proxy: [{ host: '127.0.0.1', port: 0, ssl: true }], admin: [], internal: [], status: [] } });
    base = `wss://127.0.0.1:${gw.gateway.addresses.proxy[0]?.split(':').pop()}`;
  });
  after(async () => {
    await gw.close();
    await plainUpstream.close();
    tlsUpstream.server.closeAllConnections();
    tlsUpstream.server.close();
  });

  test('wss client → ws upstream: frames both ways, upstream sees X-Forwarded-Proto: https', async () => {
    assert.equal(await roundTrip(`${base}/plain`, pki.ca.cert, 'hello'), 'https:hello');
  });

  test('wss client → wss upstream (verified against the service ca_certificates)', async () => {
    assert.equal(await roundTrip(`${base}/tls`, pki.ca.cert, 'over tls twice'), 'https:over tls twice');
  });
});
