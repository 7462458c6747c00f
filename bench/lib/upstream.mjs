// Benchmark upstream: a minimal keep-alive HTTP server in its own process. Prints its port.
import { createServer } from 'node:http';
const body = Buffer.from('hello from the upstream\n');
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
