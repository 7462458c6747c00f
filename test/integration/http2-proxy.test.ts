/**
 * Proxied requests on an `ssl http2` listener: ALPN (h2 and http/1.1 on one port), the request
 * the upstream and the plugins see (the same on h1 and h2), streaming both ways, connection
 * headers kept off h2 responses, h2c, and the `http2_*` limits.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { constants, type IncomingHttpHeaders } from 'node:http2';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';
import { testPki } from '../helpers/tls.ts';
import { h1Request, h2Request, startH2Gateway, type H2TestGateway } from '../helpers/h2.ts';
import { useEchoUpstream } from '../helpers/gateway.ts';
import { startEchoServer, startServer, type EchoedRequest, type TestServer } from '../helpers/servers.ts';

const CONNECTION_HEADERS = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

/** Emits `aborted` when a relay request closes before its body ended. */
const relayEvents = new EventEmitter();

/** An upstream that answers each request body chunk as it arrives (`got:<chunk>`), and sends HTTP/1.1 connection headers. */
function startRelayServer(): Promise<TestServer> {
  return startServer((req, res) => {
    req.once('close', () => {
      if (!req.complete) relayEvents.emit('aborted');
    });
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    req.on('data', (chunk: Buffer) => res.write(`got:${chunk.toString()}\n`));
    req.on('end', () => res.end('done\n'));
  });
}

describe('proxying over HTTP/2 (ssl http2 listener)', () => {
  let echo: TestServer;
  let relay: TestServer;
  let gw: H2TestGateway;

  before(async () => {
    echo = await startEchoServer();
    relay = await startRelayServer();
    gw = await startH2Gateway(`_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}
    routes: [{ name: echo, paths: [/echo] }, { name: https-only, paths: [/secure], protocols: [https] }]
  - name: relay
    url: ${relay.url}
    routes:
      - name: relay
        paths: [/relay]
      - name: relay-filtered
        paths: [/filtered]
        plugins: [{ name: response-transformer, config: { add: { headers: ["x-filtered:yes"] } } }]
`);
  });
  after(async () => {
    await gw.close();
    await echo.close();
    await relay.close();
  });

  it('negotiates h2 with an h2 client and http/1.1 with an HTTP/1.1 client on the same port', async () => {
    const session = await gw.connect();
    assert.equal(session.alpnProtocol, 'h2');
    const viaH2 = await h2Request(session, '/echo/a');
    assert.equal(viaH2.status, 200);
    const viaH1 = await h1Request(gw.origin, '/echo/a');
    assert.equal(viaH1.alpn, 'http/1.1');
    assert.equal(viaH1.status, 200);
    session.close();
  });

  it('hands the upstream the request an HTTP/1.1 client would have sent: no pseudo-headers, host from :authority, https', async () => {
    const session = await gw.connect();
    const res = await h2Request(session, '/echo/path?q=1', { 'x-custom': 'v', cookie: 'a=1' });
    const seen = JSON.parse(res.body) as EchoedRequest;
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/path?q=1');
    assert.deepEqual(Object.keys(seen.headers).filter((name) => name.startsWith(':')), []);
    assert.equal(seen.headers['x-custom'], 'v');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-host'], 'localhost');
    const viaH1 = JSON.parse((await h1Request(gw.origin, '/echo/path?q=1', { host: 'localhost' })).body) as EchoedRequest;
    assert.equal(viaH1.headers['x-forwarded-host'], seen.headers['x-forwarded-host']);
    assert.equal(viaH1.headers['x-forwarded-proto'], seen.headers['x-forwarded-proto']);
    session.close();
  });

  it('matches routes with protocols: [https] over TLS h2', async () => {
    const session = await gw.connect();
    assert.equal((await h2Request(session, '/secure/x')).status, 200);
    session.close();
  });

  it('streams a proxied exchange both ways: each body chunk reaches the upstream, and its answer the client, before either side ends', async () => {
    const session = await gw.connect();
    const stream = session.request({ ':path': '/relay/x', ':method': 'POST', 'content-type': 'text/plain' }, { endStream: false });
    stream.setEncoding('utf8');
    let text = '';
    const next = (expected: string) => new Promise<void>((resolve) => {
      const onData = (chunk: string) => {
        text += chunk;
        if (text.includes(expected)) {
          stream.off('data', onData);
          resolve();
        }
      };
      stream.on('data', onData);
    });
    for (const piece of ['one', 'two', 'three']) {
      const answered = next(`got:${piece}\n`);
      stream.write(piece);
      if (piece === 'one') {
        // (The upstream client sends the request head with the first body chunk.)
        const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
        assert.equal(head[':status'], 200);
        for (const name of CONNECTION_HEADERS) assert.equal(head[name], undefined, `${name} is not sent over h2`);
      }
      await answered; // the upstream saw this chunk alone, and its answer came back, with the request still open
    }
    const done = next('done\n');
    stream.end();
    await done;
    assert.equal(text, 'got:one\ngot:two\ngot:three\ndone\n');
    session.close();
  });

  it('cancels the upstream request when the h2 client resets its stream', async () => {
    const session = await gw.connect();
    const stream = session.request({ ':path': '/relay/x', ':method': 'POST' }, { endStream: false });
    stream.on('error', () => {});
    stream.write('hello');
    await once(stream, 'response');
    const aborted = once(relayEvents, 'aborted');
    stream.close(constants.NGHTTP2_CANCEL);
    await aborted; // the upstream saw its request cut before the body ended
    session.close();
  });

  it('keeps connection headers off h2 responses that went through header_filter too', async () => {
    const session = await gw.connect();
    const res = await h2Request(session, '/filtered/x', { ':method': 'POST' }, 'hi');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-filtered'], 'yes');
    for (const name of CONNECTION_HEADERS) assert.equal(res.headers[name], undefined, `${name} is not sent over h2`);
    assert.equal(res.body, 'got:hi\ndone\n');
    session.close();
  });

  it('forwards a request body of unknown length (no content-length, no transfer-encoding on h2)', async () => {
    const session = await gw.connect();
    const stream = session.request({ ':path': '/echo/upload', ':method': 'PUT' }, { endStream: false });
    stream.write('part-1,');
    stream.end('part-2');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const seen = JSON.parse(Buffer.concat(chunks).toString()) as EchoedRequest;
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.body, 'part-1,part-2');
    session.close();
  });

  it('holds HTTP/1.1 clients on the ssl http2 port to max_header_size (431, Kong-shaped body)', async () => {
    const res = await h1Request(gw.origin, '/echo/x', { 'x-big': 'x'.repeat(20 * 1024) });
    assert.equal(res.status, 431);
    assert.match(res.body, /"message"/);
  });

  it('answers gateway errors over h2 with the Kong-shaped JSON body', async () => {
    const session = await gw.connect();
    const res = await h2Request(session, '/nowhere');
    assert.equal(res.status, 404);
    assert.equal((JSON.parse(res.body) as { message: string }).message, 'no Route matched with those values');
    session.close();
  });
});

describe('the plugin chain over h1 and h2', () => {
  const ctx = useEchoUpstream((upstream) => startH2Gateway(`_format_version: "3.0"
consumers:
  - username: via-h1
    keyauth_credentials: [{ key: key-h1 }]
  - username: via-h2
    keyauth_credentials: [{ key: key-h2 }]
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: guarded
        paths: [/guarded]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { minute: 2, policy: local, limit_by: consumer }
`));

  /** What a client sees for: no key, a wrong key, the key sent twice, then three requests with its key. */
  async function answers(send: (headers: Record<string, string | string[]>) => Promise<{ status: number; headers: Record<string, unknown>; body: string }>, key: string) {
    const seen = [];
    const cases: Record<string, string | string[]>[] = [{}, { apikey: 'wrong' }, { apikey: [key, key] }, { apikey: key }, { apikey: key }, { apikey: key }];
    for (const headers of cases) {
      const res = await send(headers);
      const upstream = res.status === 200 ? (JSON.parse(res.body) as EchoedRequest).headers : undefined;
      seen.push({
        status: res.status,
        message: res.status === 200 ? undefined : (JSON.parse(res.body) as { message: string }).message,
        remaining: res.headers['x-ratelimit-remaining-minute'],
        consumer: upstream?.['x-consumer-username']?.toString().replace(/via-h[12]/, 'via-hX'),
      });
    }
    return seen;
  }

  it('gives the same answers (401, 401, 401 duplicate key, 200, 200, 429 with the same headers) on h1 and h2', async () => {
    const session = await ctx.gw.connect();
    const overH2 = await answers((headers) => h2Request(session, '/guarded/x', headers), 'key-h2');
    const overH1 = await answers((headers) => h1Request(ctx.gw.origin, '/guarded/x', headers), 'key-h1');
    assert.deepEqual(overH2.map((a) => a.status), [401, 401, 401, 200, 200, 429]);
    assert.equal(overH2[2]?.message, 'Duplicate API key found');
    assert.deepEqual(overH2, overH1);
    session.close();
  });
});

describe('HTTP/2 limits', () => {
  const ctx = useEchoUpstream((upstream) => startH2Gateway(`_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes: [{ name: echo, paths: [/echo] }]
routes:
  - name: sub
    paths: ["~/sub/(?<ch>[a-z]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [eventsource] } }]
`, { http2: { maxConcurrentStreams: 2, maxHeaderListSize: 4096, maxConnections: 0 } }));

  it('announces http2_max_concurrent_streams and serves a third stream only once one of two open ones closes', async () => {
    const session = await ctx.gw.connect();
    assert.equal(session.remoteSettings.maxConcurrentStreams, 2);
    const first = session.request({ ':path': '/sub/a', accept: 'text/event-stream' });
    const second = session.request({ ':path': '/sub/b', accept: 'text/event-stream' });
    await Promise.all([once(first, 'response'), once(second, 'response')]);
    first.resume();
    second.resume();
    let thirdAnswered = false;
    const third = h2Request(session, '/echo/third').then((res) => {
      thirdAnswered = true;
      return res;
    });
    // Another connection is served meanwhile: the gateway is not stuck, the limit is per connection.
    const other = await ctx.gw.connect();
    assert.equal((await h2Request(other, '/echo/other')).status, 200);
    assert.equal(thirdAnswered, false, 'the third stream waits while two are open');
    first.close();
    assert.equal((await third).status, 200);
    second.close();
    session.close();
    other.close();
  });

  it('refuses a request whose header list is over http2_max_header_size', async () => {
    const session = await ctx.gw.connect();
    const stream = session.request({ ':path': '/echo/big', 'x-big': 'x'.repeat(8000) });
    stream.on('error', () => {});
    let status: unknown;
    stream.on('response', (head: IncomingHttpHeaders) => (status = head[':status']));
    await new Promise((resolve) => stream.once('close', resolve));
    assert.equal(status, undefined, 'no response');
    assert.equal(stream.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // The connection survives a refused stream.
    assert.equal((await h2Request(session, '/echo/small', { 'x-small': 'x'.repeat(1000) })).status, 200);
    session.close();
  });
});

describe('request bodies over h2 and client_max_body_size', () => {
  const ctx = useEchoUpstream((upstream) => startH2Gateway(`_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes: [{ name: echo, paths: [/echo] }]
`, { clientMaxBodySize: 16 }));

  it('answers Expect: 100-continue over the limit with 413 and no 100 Continue; under it, invites the body', async () => {
    const session = await ctx.gw.connect();
    const big = session.request({ ':path': '/echo/x', ':method': 'POST', expect: '100-continue', 'content-length': '100' }, { endStream: false });
    let invited = false;
    big.on('continue', () => (invited = true));
    const [head] = (await once(big, 'response')) as [IncomingHttpHeaders];
    assert.equal(head[':status'], 413);
    assert.equal(invited, false);
    big.close();
    const small = session.request({ ':path': '/echo/x', ':method': 'POST', expect: '100-continue', 'content-length': '5' }, { endStream: false });
    await once(small, 'continue');
    small.end('hello');
    const [smallHead] = (await once(small, 'response')) as [IncomingHttpHeaders];
    assert.equal(smallHead[':status'], 200);
    small.resume();
    session.close();
  });

  it('refuses a streamed h2 body (no content-length) once it passes the limit, with 413', async () => {
    const session = await ctx.gw.connect();
    const stream = session.request({ ':path': '/echo/x', ':method': 'POST' }, { endStream: false });
    stream.on('error', () => {});
    stream.write('x'.repeat(10));
    stream.end('y'.repeat(10));
    const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    assert.equal(head[':status'], 413);
    session.close();
  });
});

describe('access log over h2', () => {
  it('counts each request\'s own bytes, not the whole connection\'s once per stream', async () => {
    const echo = await startEchoServer();
    const lines: { path?: string; bytes_in?: number; bytes_out?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of String(chunk).split('\n')) if (text !== '') lines.push(JSON.parse(text) as (typeof lines)[number]);
        done();
      },
    });
    const gw = await startH2Gateway(`_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}
    routes: [{ name: echo, paths: [/echo] }]
`, { accessLogger: createLogger('info', sink, 'json') });
    try {
      const session = await gw.connect();
      for (let i = 0; i < 5; i++) assert.equal((await h2Request(session, `/echo/${i}`)).status, 200);
      const sessionOut = session.socket.bytesRead;
      session.close();
      const requests = lines.filter((line) => line.path?.startsWith('/echo/'));
      assert.equal(requests.length, 5);
      const totalOut = requests.reduce((sum, line) => sum + (line.bytes_out ?? 0), 0);
      assert.ok(requests.every((line) => (line.bytes_out ?? 0) > 0));
      // Together the requests account for (at most) what the connection carried, not 5 times it.
      assert.ok(totalOut <= sessionOut, `${totalOut} bytes logged out, ${sessionOut} on the connection`);
    } finally {
      await gw.close();
      await echo.close();
    }
  });
});

describe('h2c (the http2 flag without ssl)', () => {
  const ctx = useEchoUpstream((upstream) => startH2Gateway(`_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes: [{ name: echo, paths: [/echo] }, { name: https-only, paths: [/secure], protocols: [https] }]
`, { h2c: true }));

  it('serves HTTP/2 with prior knowledge, as plain http', async () => {
    const session = await ctx.gw.connect();
    const res = await h2Request(session, '/echo/x');
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as EchoedRequest).headers['x-forwarded-proto'], 'http');
    assert.notEqual((await h2Request(session, '/secure/x')).status, 200);
    session.close();
  });
});

describe('certificates on an ssl http2 listener (the declarative certificates/snis, picked by SNI)', () => {
  it('serves the certificate whose SNI matches over h2, and the default one otherwise', async () => {
    const pki = testPki();
    const named = pki.server(['h2.example.test']);
    const indent = (pem: string) => pem.trim().split('\n').join('\n      ');
    const gw = await startH2Gateway(`_format_version: "3.0"
certificates:
  - cert: |
      ${indent(named.cert)}
    key: |
      ${indent(named.key)}
    snis: [{ name: h2.example.test }]
`);
    try {
      const bySni = await gw.connect({ servername: 'h2.example.test' });
      assert.equal(bySni.alpnProtocol, 'h2');
      assert.equal((bySni.socket as TLSSocket).getPeerCertificate().subject.CN, 'h2.example.test');
      assert.equal((await h2Request(bySni, '/nowhere')).status, 404);
      bySni.close();
      const byDefault = await gw.connect();
      assert.equal((byDefault.socket as TLSSocket).getPeerCertificate().subject.CN, 'localhost');
      byDefault.close();
    } finally {
      await gw.close();
    }
  });
});
