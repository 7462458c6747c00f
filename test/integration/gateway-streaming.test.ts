import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import { startServer } from '../helpers/servers.ts';
import { startGateway } from '../helpers/gateway.ts';

const ONE_GIB = 1024 * 1024 * 1024;

function upstreamYaml(url: string): string {
  return `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${url}\n    routes:\n      - paths: [/]\n`;
}

describe('streaming through the gateway', () => {
  test('a 1 GiB upload streams through in bounded memory', async () => {
    let received = 0;
    const upstream = await startServer((req, res) => {
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => res.end(String(received)));
    });
    const gw = await startGateway(upstreamYaml(upstream.url));
    try {
      const chunk = Buffer.alloc(1024 * 1024, 7);
      let sent = 0;
      let peakRss = 0;
      const startRss = process.memoryUsage().rss;
      const body = new Readable({
        read() {
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
          if (sent >= ONE_GIB) return void this.push(null);
          sent += chunk.length;
          this.push(chunk);
        },
      });
      const res = await request(`${gw.proxyUrl}/upload`, { method: 'POST', body, headers: { 'content-length': String(ONE_GIB) } });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), String(ONE_GIB));
      const growth = peakRss - startRss;
      assert.ok(growth < 200 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MiB for a 1 GiB upload`);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  test('a never-ending event stream reaches the client chunk by chunk', async () => {
    const upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const timer = setInterval(() => res.write(`data: ${++n}\n\n`), 10);
      res.on('close', () => clearInterval(timer));
    });
    const gw = await startGateway(upstreamYaml(upstream.url));
    try {
      const res = await request(`${gw.proxyUrl}/events`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let text = '';
      for await (const chunk of res.body) {
        text += String(chunk);
        if (text.includes('data: 3\n\n')) break;
      }
      assert.match(text, /^data: 1\n\ndata: 2\n\ndata: 3\n\n/);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  test('WebSocket upgrades are proxied both ways and closes propagate', async () => {
    const upstream = await startServer((_req, res) => res.end());
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket, req) => {
      socket.send(`hello ${req.url}`);
      socket.on('message', (data) => socket.send(`echo ${String(data)}`));
    });
    const gw = await startGateway(upstreamYaml(`${upstream.url}/ws`));
    try {
      const client = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/room/1`);
      const messages: string[] = [];
      client.on('message', (data) => messages.push(String(data)));
      await once(client, 'open');
      client.send('ping');
      while (messages.length < 2) await once(client, 'message');
      assert.deepEqual(messages, ['hello /ws/room/1', 'echo ping']);
      const [serverSide] = [...wss.clients];
      serverSide?.close(1001, 'bye');
      const [code, reason] = (await once(client, 'close')) as [number, Buffer];
      assert.equal(code, 1001);
      assert.equal(String(reason), 'bye');
    } finally {
      wss.close();
      await gw.close();
      await upstream.close();
    }
  });

  test('a WebSocket upgrade to no route is refused with 404', async () => {
    const gw = await startGateway('_format_version: "3.0"\n');
    try {
      const client = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/nothing`);
      client.on('error', () => {});
      const [, res] = (await once(client, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 404);
      client.terminate();
    } finally {
      await gw.close();
    }
  });
});
