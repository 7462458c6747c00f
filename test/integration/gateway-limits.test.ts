import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { request } from 'undici';
import { rawRequest } from '../helpers/servers.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

describe('request limits and malformed requests', () => {
  const ctx = useEchoGateway((upstream) => `_format_version: "3.0"\nservices:\n  - name: e\n    url: ${upstream}\n    routes:\n      - paths: [/]\n`, {
    maxHeaderSize: 4096,
    clientMaxBodySize: 1024,
  });
  let upstreamRequests = 0;
  before(() => {
    ctx.echo.server.on('request', () => upstreamRequests++);
  });

  test('header lines over the limit get 431 with a JSON body', async () => {
    const res = await rawRequest(ctx.gw.proxyPort, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(8192)}\r\n\r\n`);
    assert.equal(res.status, 431);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'HEADERS_TOO_LARGE');
  });

  test('Content-Length together with Transfer-Encoding is refused (request smuggling)', async () => {
    const before = upstreamRequests;
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
    const res = await rawRequest(
      ctx.gw.proxyPort,
      `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    assert.equal(res.status, 400);
    assert.equal((res.raw.match(/HTTP\/1\.1/g) ?? []).length, 1, 'exactly one response, nothing smuggled');
    assert.equal(upstreamRequests, before, 'nothing reached the upstream');
  });

  test('a Content-Length over client_max_body_size gets 413 before the body is read', async () => {
    const res = await rawRequest(ctx.gw.proxyPort, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(100)}`);
    assert.equal(res.status, 413);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'BODY_TOO_LARGE');
  });

  test('a chunked body that grows over the limit gets 413', async () => {
    const chunk = 'x'.repeat(600);
    const chunked = `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`;
    const res = await rawRequest(ctx.gw.proxyPort, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`);
    assert.equal(res.status, 413);
  });

  test('Expect: 100-continue over the limit: 413 without inviting the body; within it: 100 Continue, then the answer', async () => {
    const over = connect(ctx.gw.proxyPort, '127.0.0.1');
    over.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    const [first] = (await once(over, 'data')) as [Buffer];
    assert.match(first.toString('latin1'), /^HTTP\/1\.1 413 /, 'no 100 Continue before the refusal');
    over.destroy();

    const within = connect(ctx.gw.proxyPort, '127.0.0.1');
    within.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    const [invite] = (await once(within, 'data')) as [Buffer];
    assert.equal(invite.toString('latin1'), 'HTTP/1.1 100 Continue\r\n\r\n');
    let answer = '';
    within.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    within.write('hello');
    await once(within, 'close');
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });

  test('a body within the limit passes', async () => {
    const res = await request(ctx.gw.proxyUrl, { method: 'POST', body: 'y'.repeat(1000) });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { body: string }).body.length, 1000);
  });

  test('garbage on the wire gets 400 and the gateway keeps serving', async () => {
    const res = await rawRequest(ctx.gw.proxyPort, 'NOT A REQUEST\r\n\r\n');
    assert.equal(res.status, 400);
    const ok = await request(ctx.gw.proxyUrl);
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });
});
