import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { after, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import type { Service, Upstream } from '../../src/config/types.ts';
import { createUpstreamClient } from '../../src/proxy/upstream-client.ts';
import { closedPort, listen, makeService, makeUpstream, standInUpstreamHeaders, startServer, type Running } from './proxy-harness.ts';

/** A stand-in gateway that only handles upgrades, via the client's pass-through. */
async function startUpgradeGateway(client: ReturnType<typeof createUpstreamClient>, service: Service, upstream?: Upstream): Promise<Running> {
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket, head) => {
    const url = req.url ?? '/';
    const headers = standInUpstreamHeaders(req, url.split('?')[0]!, { preserveHost: false, service, upstream, upgrade: true });
    void client.upgrade({ method: req.method ?? 'GET', pathAndQuery: url, headers, body: null, service, upstream }, { req, socket, head });
  });
  return listen(server);
}

describe('WebSocket pass-through', () => {
  const client = createUpstreamClient();
  const running: Running[] = [];
  after(async () => {
    await client.close();
    await Promise.all(running.map((r) => r.close()));
  });

  async function echoBackend(): Promise<{ running: Running; wss: WebSocketServer; seenHeaders: Record<string, string | string[] | undefined>[] }> {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    const seenHeaders: Record<string, string | string[] | undefined>[] = [];
    wss.on('connection', (ws, req) => {
      seenHeaders.push(req.headers);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const r = await listen(server);
    running.push(r);
    return { running: r, wss, seenHeaders };
  }

  it('echoes text and binary both ways and forwards headers', async () => {
    const backend = await echoBackend();
    const gateway = await startUpgradeGateway(client, makeService({ port: backend.running.port }));
    running.push(gateway);
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/chat?room=1`, ['chat.v1']);
    await once(ws, 'open');
    assert.equal(ws.protocol, 'chat.v1');
    ws.send('hello');
    const [text, textIsBinary] = (await once(ws, 'message')) as [Buffer, boolean];
    assert.equal(text.toString(), 'hello');
    assert.equal(textIsBinary, false);
    ws.send(Buffer.from([1, 2, 3]));
    const [bin, binIsBinary] = (await once(ws, 'message')) as [Buffer, boolean];
    assert.deepEqual([...bin], [1, 2, 3]);
    assert.equal(binIsBinary, true);
    const seen = backend.seenHeaders[0]!;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.host, `127.0.0.1:${backend.running.port}`);
    assert.equal(seen['sec-websocket-protocol'], 'chat.v1');
    ws.close(1000, 'bye');
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 1000);
  });

  it('propagates a close from the client to the upstream and from the upstream to the client', async () => {
    const backend = await echoBackend();
    const gateway = await startUpgradeGateway(client, makeService({ port: backend.running.port }));
    running.push(gateway);

    const first = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
    const [upstreamSide] = (await once(backend.wss, 'connection')) as [WebSocket];
    await once(first, 'open');
    const upstreamClosed = once(upstreamSide, 'close');
    first.close(4001, 'client says bye');
    const [code, reason] = (await upstreamClosed) as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'client says bye');

    const second = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
    const [upstreamSecond] = (await once(backend.wss, 'connection')) as [WebSocket];
    await once(second, 'open');
    const clientClosed = once(second, 'close');
    upstreamSecond.close(4002, 'server says bye');
    const [code2, reason2] = (await clientClosed) as [number, Buffer];
    assert.equal(code2, 4002);
    assert.equal(reason2.toString(), 'server says bye');

    const third = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
    const [upstreamThird] = (await once(backend.wss, 'connection')) as [WebSocket];
    await once(third, 'open');
    const abrupt = once(third, 'close');
    upstreamThird.terminate();
    const [code3] = (await abrupt) as [number];
    assert.equal(code3, 1006);
  });

  it('relays a non-101 answer as an HTTP response', async () => {
    const backend = await startServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain', 'x-why': 'nope' });
      res.end('forbidden');
    });
    running.push(backend);
    const gateway = await startUpgradeGateway(client, makeService({ port: backend.port }));
    running.push(gateway);
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['x-why'], 'nope');
    let body = '';
    for await (const chunk of res) body += String(chunk);
    assert.equal(body, 'forbidden');
  });

  it('answers 502 with a JSON body when the upstream refuses, and retries another target', async () => {
    const dead = await closedPort();
    const gateway = await startUpgradeGateway(client, makeService({ port: dead, retries: 0 }));
    running.push(gateway);
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    assert.equal(res.statusCode, 502);
    let body = '';
    for await (const chunk of res) body += String(chunk);
    assert.deepEqual(JSON.parse(body), { message: 'An invalid response was received from the upstream server', code: 'UPSTREAM_UNAVAILABLE' });

    const backend = await echoBackend();
    const upstream = makeUpstream([`127.0.0.1:${dead}`, `127.0.0.1:${backend.running.port}`], { id: 'ws-up' });
    const balanced = await startUpgradeGateway(client, makeService({ host: upstream.name, retries: 1 }), upstream);
    running.push(balanced);
    for (let i = 0; i < 2; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${balanced.port}/`);
      await once(socket, 'open');
      socket.send(`ping ${i}`);
      const [msg] = (await once(socket, 'message')) as [Buffer];
      assert.equal(msg.toString(), `ping ${i}`);
      socket.close();
      await once(socket, 'close');
    }
  });
});
