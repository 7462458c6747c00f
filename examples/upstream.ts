import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The example upstream `npm start` runs on loopback so the quickstart works with nothing
 * else installed. `GET /anything...` echoes the request as JSON (like httpbin);
 * `GET /stream` sends a server-sent event every second, forever.
 */
export function createExampleUpstream(): Server {
  return createServer((req, res) => {
    if (req.url?.startsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const send = () => res.write(`id: ${++n}\ndata: tick ${n} at ${new Date().toISOString()}\n\n`);
      send();
      const timer = setInterval(send, 1000);
      res.on('close', () => clearInterval(timer));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.stringify(
        { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}

export async function startExampleUpstream(host = '127.0.0.1', port = 9009): Promise<{ server: Server; address: string }> {
  const server = createExampleUpstream();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return { server, address: `${bound.address}:${bound.port}` };
}
