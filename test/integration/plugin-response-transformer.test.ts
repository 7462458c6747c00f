import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const UPSTREAM_JSON = { a: 1, secret: 'x', old: 'o', keep: 'k', list: 'l', nested: { n: [1] } };

describe('response-transformer plugin', () => {
  let upstream: TestServer;
  let gw: TestGateway;
  /** Lets the SSE upstream send its second event once the client has seen the first. */
  let releaseSecondEvent: () => void = () => undefined;

  before(async () => {
    upstream = await startServer((req, res) => {
      const headers = { 'x-remove': 'r', 'x-old': 'moved', 'x-replace': 'before', 'x-multi': 'one' };
      const json = JSON.stringify(UPSTREAM_JSON);
      switch (req.url) {
        case '/json':
          res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
          res.end(json);
          return;
        case '/chunked-json':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(json.slice(0, 10));
          setImmediate(() => res.end(json.slice(10)));
          return;
        case '/gzip': {
          const zipped = gzipSync(json);
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.length });
          res.end(zipped);
          return;
        }
        case '/array':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('[1,2,3]');
          return;
        case '/text':
          res.writeHead(200, { ...headers, 'content-type': 'text/plain', 'content-length': 11 });
          res.end('secret=text');
          return;
        case '/sse':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: 1\n\n');
          releaseSecondEvent = () => res.end('data: 2\n\n');
          return;
        default:
          res.writeHead(404).end();
      }
    });
    gw = await startGateway(`
_format_version: "3.0"
services:
  - name: up
    url: ${upstream.url}
    routes:
      - { name: all, paths: [/json, /chunked-json, /gzip, /array, /text, /sse], strip_path: false }
    plugins:
      - name: response-transformer
        config:
          remove: { headers: [X-Remove], json: [secret] }
          rename: { headers: ["X-Old:X-New"], json: ["old:new"] }
          replace: { headers: ["X-Replace:after", "X-Absent:no"], json: ["a:2", "missing:no"], json_types: [number] }
          add: { headers: ["X-Added:yes", "X-Replace:ignored"], json: ["flag:true", "count:5", "keep:ignored", "url:http://x/y"], json_types: [boolean, number, string] }
          append: { headers: ["X-Multi:two"], json: ["list:m"] }
`);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const EXPECTED = { a: 2, new: 'o', keep: 'k', list: ['l', 'm'], nested: { n: [1] }, flag: true, count: 5, url: 'http://x/y' };

  test('headers and JSON keys are transformed; Content-Length is dropped (body re-sent chunked)', async () => {
    const res = await request(`${gw.proxyUrl}/json`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-remove'], undefined);
    assert.equal(res.headers['x-old'], undefined);
    assert.equal(res.headers['x-new'], 'moved');
    assert.equal(res.headers['x-replace'], 'after');
    assert.equal(res.headers['x-absent'], undefined);
    assert.equal(res.headers['x-added'], 'yes');
    assert.deepEqual(res.headers['x-multi'], ['one', 'two']);
    assert.equal(res.headers['content-length'], undefined);
    assert.deepEqual(await res.body.json(), EXPECTED);
  });

  test('a JSON body arriving in several chunks is buffered until the end', async () => {
    const res = await request(`${gw.proxyUrl}/chunked-json`);
    assert.deepEqual(await res.body.json(), EXPECTED);
  });

  test('a gzipped JSON body is inflated, transformed and gzipped again', async () => {
    const res = await request(`${gw.proxyUrl}/gzip`);
    assert.equal(res.headers['content-encoding'], 'gzip');
    const raw = Buffer.from(await res.body.arrayBuffer());
    assert.deepEqual(JSON.parse(gunzipSync(raw).toString()), EXPECTED);
  });

  test('a JSON body that is not an object goes out unchanged', async () => {
    const res = await request(`${gw.proxyUrl}/array`);
    assert.equal(await res.body.text(), '[1,2,3]');
  });

  test('a non-JSON body is untouched and keeps its Content-Length; headers still change', async () => {
    const res = await request(`${gw.proxyUrl}/text`);
    assert.equal(res.headers['content-length'], '11');
    assert.equal(res.headers['x-new'], 'moved');
    assert.equal(await res.body.text(), 'secret=text');
  });

  test('an event stream passes through unbuffered', async () => {
    const res = await request(`${gw.proxyUrl}/sse`);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.equal(res.headers['x-added'], 'yes');
    let text = '';
    for await (const chunk of res.body) {
      text += String(chunk);
      // The upstream sends the second event only after the client has received the first:
      // a buffering plugin would deadlock here (and the test time out).
      if (text === 'data: 1\n\n') releaseSecondEvent();
    }
    assert.equal(text, 'data: 1\n\ndata: 2\n\n');
  });
});
