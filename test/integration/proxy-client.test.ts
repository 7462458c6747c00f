import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createUpstreamClient, type UpstreamClient } from '../../src/proxy/upstream-client.ts';
import { closedPort, makeService, makeUpstream, startGateway, startServer, type Running } from './proxy-harness.ts';

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function call(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('upstream client', () => {
  let client: UpstreamClient;
  const running: Running[] = [];
  const track = async (r: Promise<Running>): Promise<Running> => {
    const value = await r;
    running.push(value);
    return value;
  };

  before(() => {
    client = createUpstreamClient();
  });
  after(async () => {
    await client.close();
    await Promise.all(running.map((r) => r.close()));
  });

  it('forwards method, path, headers and body; strips hop-by-hop both ways; adds Via', async () => {
    const backend = await track(
      startServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          res.writeHead(201, { 'content-type': 'application/json', connection: 'keep-alive, x-hop', 'x-hop': 'no', 'keep-alive': 'timeout=5' });
          res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
        });
      }),
    );
    const service = makeService({ port: backend.port });
    const gateway = await track(startGateway(client, { service }));
    const reply = await call(gateway.port, {
      method: 'PUT',
      path: '/things/1?x=1',
      headers: { 'x-custom': 'yes', connection: 'x-drop', 'x-drop': 'secret', 'x-forwarded-for': '6.6.6.6', 'content-type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.headers['x-hop'], undefined);
    assert.equal(reply.headers.via, '1.1 sluice/test');
    const seen = JSON.parse(reply.body) as { method: string; url: string; headers: Record<string, string>; body: string };
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/things/1?x=1');
    assert.equal(seen.body, 'hello');
    assert.equal(seen.headers['x-custom'], 'yes');
    assert.equal(seen.headers['x-drop'], undefined);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers.host, `127.0.0.1:${backend.port}`);
  });

  it('preserve_host sends the client Host', async () => {
    const backend = await track(startServer((req, res) => res.end(req.headers.host)));
    const gateway = await track(startGateway(client, { service: makeService({ port: backend.port }), preserveHost: true }));
    const reply = await call(gateway.port, { headers: { host: 'public.example.com' } });
    assert.equal(reply.body, 'public.example.com');
  });

  it('streams a ~200 MiB upload through in bounded memory', async () => {
    const total = 200 * 1024 * 1024;
    let received = 0;
    const backend = await track(
      startServer((req, res) => {
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => res.end(String(received)));
      }),
    );
    const gateway = await track(startGateway(client, { service: makeService({ port: backend.port }) }));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: gateway.port, method: 'POST', path: '/upload', agent: false, headers: { 'content-length': String(total) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          peak = Math.max(peak, process.memoryUsage().rss);
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, String(total));
    const growth = (peak - rssBefore) / 1024 / 1024;
    // Buffering the upload would grow RSS by ≥ 200 MiB. Client, gateway and backend share this
    // process, so garbage not yet collected moves the peak by tens of MiB from run to run (66 MiB
    // seen under load against ≈ 30 quiet): the bound is half the upload.
    assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MiB`);
  });

  it('relays a never-ending chunked response as it arrives', async () => {
    let stop = false;
    const backend = await track(
      startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => {
          if (stop) return clearInterval(timer);
          res.write(`data: ${n++}\n\n`);
        }, 5);
        res.on('close', () => clearInterval(timer));
      }),
    );
    const gateway = await track(startGateway(client, { service: makeService({ port: backend.port }) }));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/events', agent: false }, resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    let text = '';
    res.setEncoding('utf8');
    for await (const piece of res) {
      text += piece as string;
      if (text.includes('data: 3\n\n')) break;
    }
    stop = true;
    assert.match(text, /^data: 0\n\n/);
    res.destroy();
  });

  it('answers 504 quickly when the upstream does not answer within read_timeout', async () => {
    const backend = await track(startServer(() => undefined));
    const service = makeService({ port: backend.port, read_timeout: 200, retries: 0 });
    const gateway = await track(startGateway(client, { service }));
    const started = Date.now();
    const reply = await call(gateway.port);
    assert.equal(reply.status, 504);
    assert.equal(JSON.parse(reply.body).code, 'UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 600, `took ${Date.now() - started} ms`);
  });

  it('answers 502 when the connection is refused, 503 when the name does not resolve', async () => {
    const port = await closedPort();
    const refused = await track(startGateway(client, { service: makeService({ port, retries: 1 }) }));
    const reply = await call(refused.port);
    assert.equal(reply.status, 502);
    assert.equal(JSON.parse(reply.body).code, 'UPSTREAM_UNAVAILABLE');
    const unresolved = await track(startGateway(client, { service: makeService({ host: 'no-such-host.invalid', port: 80, retries: 0 }) }));
    const dns = await call(unresolved.port);
    assert.equal(dns.status, 503);
    assert.equal(JSON.parse(dns.body).code, 'NAME_RESOLUTION_FAILED');
  });

  it('retries an idempotent request on another target when one refuses', async () => {
    const dead = await closedPort();
    let hits = 0;
    const alive = await track(
      startServer((_req, res) => {
        hits++;
        res.end('alive');
      }),
    );
    const upstream = makeUpstream([`127.0.0.1:${dead}`, `127.0.0.1:${alive.port}`], { id: 'retry-up' });
    const gateway = await track(startGateway(client, { service: makeService({ host: upstream.name, retries: 1 }), upstream }));
    for (let i = 0; i < 4; i++) {
      const reply = await call(gateway.port);
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'alive');
    }
    assert.equal(hits, 4);
  });

  it('does not retry a POST', async () => {
    const dead = await closedPort();
    const alive = await track(startServer((_req, res) => res.end('alive')));
    const upstream = makeUpstream([`127.0.0.1:${dead}`, `127.0.0.1:${alive.port}`], { id: 'post-up' });
    const gateway = await track(startGateway(client, { service: makeService({ host: upstream.name, retries: 5 }), upstream }));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(gateway.port, { method: 'POST', body: 'x' })).status);
    assert.deepEqual(statuses.sort(), [200, 200, 502, 502]);
  });

  it('spreads requests by weight across real targets', async () => {
    const hits = new Map<string, number>();
    const backends = await Promise.all(
      ['a', 'b'].map((name) =>
        track(
          startServer((_req, res) => {
            hits.set(name, (hits.get(name) ?? 0) + 1);
            res.end(name);
          }),
        ),
      ),
    );
    const upstream = makeUpstream(
      [
        [`127.0.0.1:${backends[0]!.port}`, 300],
        [`127.0.0.1:${backends[1]!.port}`, 100],
      ],
      { id: 'weights-up' },
    );
    const gateway = await track(startGateway(client, { service: makeService({ host: upstream.name }), upstream }));
    for (let i = 0; i < 40; i++) await call(gateway.port);
    assert.deepEqual(Object.fromEntries(hits), { a: 30, b: 10 });
  });

  it('aborts the upstream request when the consumer destroys the body', async () => {
    let upstreamClosed!: Promise<unknown>;
    const backend = await track(
      startServer((_req, res) => {
        upstreamClosed = once(res, 'close');
        res.writeHead(200);
        res.write('start');
      }),
    );
    const response = await client.send(
      { method: 'GET', pathAndQuery: '/', headers: { host: 'x' }, body: null, service: makeService({ port: backend.port }) },
      new AbortController().signal,
    );
    const [first] = (await once(response.body, 'data')) as [Buffer];
    assert.equal(first.toString(), 'start');
    response.body.destroy();
    await upstreamClosed;
  });
});
