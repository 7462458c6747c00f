import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { snapshotFrom, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startEchoServer, type TestServer } from '../helpers/servers.ts';
import { testPki } from '../helpers/tls.ts';
import { certificatesYaml, servedCertificate } from '../helpers/tls-client.ts';
import { collected } from '../helpers/gc.ts';


const PLAIN = { host: '127.0.0.1', port: 0 };
const SSL = { host: '127.0.0.1', port: 0, ssl: true };
const portOf = (address: string | undefined) => Number((address ?? '').split(':').pop());

const terminate = (message: string) => [{ name: 'request-termination', config: { status_code: 200, message } }];

function routesConfig(echoUrl: string) {
  return {
    services: [{ name: 'echo', url: echoUrl, routes: [{ name: 'echo', paths: ['/echo'], protocols: ['https'] }] }],
    routes: [
      { name: 'secure-426', paths: ['/secure'], protocols: ['https'], plugins: terminate('secure') },
      { name: 'secure-301', paths: ['/moved'], protocols: ['https'], https_redirect_status_code: 301, plugins: terminate('moved') },
      { name: 'secure-308', paths: ['/kept'], protocols: ['https'], https_redirect_status_code: 308, plugins: terminate('kept') },
      { name: 'sub', paths: ['~/sub/(?<ch>[a-z0-9-]+)$'], plugins: [{ name: 'pubsub-subscriber', config: { channels: ['$(uri_captures.ch)'], transports: ['eventsource', 'websocket', 'longpoll'] } }] },
    ],
  };
}

describe('https routes and subscribers over TLS', () => {
  const pki = testPki();
  const first = pki.server(['sub.test']);
  const second = pki.server(['sub.test']);
  let echo: TestServer;
  let gw: TestGateway;
  let plain: string;
  let tlsPort: number;
  let dispatcher: Agent;

  before(async () => {
    echo = await startEchoServer();
    gw = await startGateway(certificatesYaml([{ pem: first, snis: ['sub.test'] }], routesConfig(echo.url)), {
      listen: { proxy: [PLAIN, SSL], admin: [], internal: [], status: [] },
    });
    plain = `http://${gw.gateway.addresses.proxy[0]}`;
    tlsPort = portOf(gw.gateway.addresses.proxy[1]);
    dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'sub.test' } });
  });
  after(async () => {
    await dispatcher.close();
    await gw.close();
    await echo.close();
  });

  const secure = (path: string) => `https://127.0.0.1:${tlsPort}${path}`;

  test('an https-only route over plain HTTP: 426 with Kong\'s body and Upgrade header', async () => {
    const res = await request(`${plain}/secure`);
    assert.equal(res.statusCode, 426);
    assert.equal(res.headers.upgrade, 'TLS/1.2, HTTP/1.1');
    assert.equal(((await res.body.json()) as { message: string }).message, 'Please use HTTPS protocol');
  });

  test('https_redirect_status_code 301/308: a redirect to the https URL', async () => {
    const moved = await request(`${plain}/moved?a=1`, { headers: { host: 'sub.test' } });
    assert.equal(moved.statusCode, 301);
    assert.equal(moved.headers.location, 'https://sub.test/moved?a=1');
    await moved.body.dump();
    const kept = await request(`${plain}/kept`, { method: 'POST', body: 'x', headers: { host: 'sub.test' } });
    assert.equal(kept.statusCode, 308);
    assert.equal(kept.headers.location, 'https://sub.test/kept');
    await kept.body.dump();
  });

  test('the same routes over TLS are served', async () => {
    for (const path of ['/secure', '/moved', '/kept']) {
      const res = await request(secure(path), { dispatcher });
      assert.equal(res.statusCode, 200, path);
      await res.body.dump();
    }
  });

  test('an untrusted peer\'s X-Forwarded-Proto: https does not count as TLS', async () => {
    const res = await request(`${plain}/secure`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.statusCode, 426);
    await res.body.dump();
  });

  test('proxied over TLS, the upstream sees X-Forwarded-Proto: https', async () => {
    const res = await request(secure('/echo'), { dispatcher });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });

  test('EventSource, WebSocket (wss) and long-poll subscribers receive over TLS', async () => {
    await gw.gateway.hub.publish('tls-news', { data: Buffer.from('over tls') });

    const es = new EventSource(secure('/sub/tls-news'), { fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }) as unknown as Promise<Response> });
    const event = await new Promise<MessageEvent>((resolve, reject) => {
      es.onmessage = resolve;
      es.onerror = (error) => reject(new Error(`EventSource failed: ${error.message ?? ''}`));
    });
    es.close();
    assert.equal(event.data, 'over tls');

    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/sub/tls-news`, { ca: pki.ca.cert, servername: 'sub.test' } as WebSocket.ClientOptions);
    const [frame] = (await once(ws, 'message')) as [Buffer];
    assert.equal(String(frame), 'over tls');
    ws.close();

    const poll = await request(secure('/sub/tls-news'), { dispatcher });
    assert.equal(poll.statusCode, 200);
    assert.equal(await poll.body.text(), 'over tls');
  });

  test('a closed EventSource stream over TLS leaves its socket to the GC (the drain forgets it)', async () => {
    const sockets: WeakRef<object>[] = [];
    const onRequest = (message: unknown): void => void sockets.push(new WeakRef((message as { request: { socket: object } }).request.socket));
    subscribe('http.server.request.start', onRequest);
    try {
      const es = new EventSource(secure('/sub/tls-gone'), { fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }) as unknown as Promise<Response> });
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve();
        es.onerror = (error) => reject(new Error(`EventSource failed: ${error.message ?? ''}`));
      });
      assert.equal(sockets.length, 1);
      es.close();
      for (let turn = 0; (await gw.gateway.hub.counters()).subscribers > 0; turn++) {
        if (turn > 10_000) assert.fail('the stream never closed');
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      assert.equal(await collected(sockets), 0, 'the closed stream\'s TLS socket is still held');
    } finally {
      unsubscribe('http.server.request.start', onRequest);
    }
  });

  test('a reload that changes the certificate: open streams stay, new handshakes get the new one', async () => {
    const es = new EventSource(secure('/sub/reload-news'), { fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }) as unknown as Promise<Response> });
    await new Promise<void>((resolve, reject) => {
      es.onopen = () => resolve();
      es.onerror = (error) => reject(new Error(`EventSource failed: ${error.message ?? ''}`));
    });
    assert.equal((await servedCertificate(tlsPort, { servername: 'sub.test' })).serialNumber, serialOf(first.cert));

    const result = await gw.gateway.reload(snapshotFrom(certificatesYaml([{ pem: second, snis: ['sub.test'] }], routesConfig(echo.url))));
    assert.equal(result.closed, 0);
    assert.equal((await servedCertificate(tlsPort, { servername: 'sub.test' })).serialNumber, serialOf(second.cert));

    const received = new Promise<MessageEvent>((resolve) => (es.onmessage = resolve));
    await gw.gateway.hub.publish('reload-news', { data: Buffer.from('after reload') });
    assert.equal((await received).data, 'after reload');
    es.close();
  });
});

describe('X-Forwarded-Proto from a trusted peer', () => {
  test('counts as https for an https-only route (a TLS load balancer in front)', async () => {
    const gw = await startGateway(JSON.stringify({ _format_version: '3.0', routes: [{ name: 's', paths: ['/secure'], protocols: ['https'], plugins: terminate('ok') }] }), {
      trustedIps: ['127.0.0.1'],
    });
    try {
      const forwarded = await request(`${gw.proxyUrl}/secure`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(forwarded.statusCode, 200);
      await forwarded.body.dump();
      const bare = await request(`${gw.proxyUrl}/secure`);
      assert.equal(bare.statusCode, 426);
      await bare.body.dump();
    } finally {
      await gw.close();
    }
  });
});

function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber;
}
