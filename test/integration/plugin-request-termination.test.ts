import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { EchoedRequest } from '../helpers/servers.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

describe('request-termination plugin', () => {
  const ctx = useEchoGateway((upstream) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: default
        paths: [/default]
        plugins: [{ name: request-termination }]
      - name: message
        paths: [/message]
        plugins: [{ name: request-termination, config: { status_code: 403, message: "So long and thanks for all the fish!" } }]
      - name: no-default
        paths: [/teapot]
        plugins: [{ name: request-termination, config: { status_code: 418 } }]
      - name: body
        paths: [/body]
        plugins: [{ name: request-termination, config: { status_code: 200, body: "<h1>maintenance</h1>", content_type: "text/html" } }]
      - name: trigger
        paths: [/trigger]
        plugins: [{ name: request-termination, config: { status_code: 404, trigger: X-Kill } }]
      - name: echo
        paths: ["~/echo/(?<id>\\\\d+)$"]
        plugins: [{ name: request-termination, config: { status_code: 200, echo: true, message: echoed, trigger: debug } }]
`);

  test('default: 503 with Kong\'s message, the upstream never sees the request', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/default`);
    assert.equal(res.statusCode, 503);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.deepEqual(await res.body.json(), { message: 'Service unavailable' });
  });

  test('status_code and message', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/message`);
    assert.equal(res.statusCode, 403);
    assert.deepEqual(await res.body.json(), { message: 'So long and thanks for all the fish!' });
  });

  test('a status without a default message answers an empty object', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/teapot`);
    assert.equal(res.statusCode, 418);
    assert.deepEqual(await res.body.json(), {});
  });

  test('body with content_type is sent as is', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/body`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html');
    assert.equal(await res.body.text(), '<h1>maintenance</h1>');
  });

  test('trigger: proxied without the header or query argument, terminated with either', async () => {
    const through = await request(`${ctx.gw.proxyUrl}/trigger`);
    assert.equal(through.statusCode, 200);
    assert.equal(((await through.body.json()) as EchoedRequest).method, 'GET', 'the upstream answered');
    const byHeader = await request(`${ctx.gw.proxyUrl}/trigger`, { headers: { 'x-kill': '1' } });
    assert.equal(byHeader.statusCode, 404);
    assert.deepEqual(await byHeader.body.json(), { message: 'Not found' });
    const byQuery = await request(`${ctx.gw.proxyUrl}/trigger?X-Kill`);
    assert.equal(byQuery.statusCode, 404);
    await byQuery.body.dump();
  });

  test('echo: the request as the gateway saw it, with the matched route and service', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/echo/42?debug=1&a=b&a=c`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-thing': 'yes' },
      body: JSON.stringify({ hello: 'world' }),
    });
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as {
      message: string;
      kong: { node_id: string; worker_pid: number; hostname: string };
      request: { scheme: string; host: string; port: number; method: string; path: string; headers: Record<string, string>; query: Record<string, unknown>; body: unknown; raw_body: string };
      matched_route: { name: string };
      matched_service: { name: string };
    };
    assert.equal(body.message, 'echoed');
    assert.equal(body.kong.worker_pid, process.pid);
    assert.equal(typeof body.kong.node_id, 'string');
    assert.equal(body.request.scheme, 'http');
    assert.equal(body.request.method, 'POST');
    assert.equal(body.request.path, '/echo/42');
    assert.equal(body.request.port, ctx.gw.proxyPort);
    assert.equal(body.request.headers['x-thing'], 'yes');
    assert.deepEqual(body.request.query, { debug: '1', a: ['b', 'c'] });
    assert.deepEqual(body.request.body, { hello: 'world' });
    assert.equal(body.request.raw_body, '{"hello":"world"}');
    assert.equal(body.matched_route.name, 'echo');
    assert.equal(body.matched_service.name, 'echo');
    const empty = await request(`${ctx.gw.proxyUrl}/echo/1?debug`);
    const emptyBody = (await empty.body.json()) as { request: Record<string, unknown> };
    assert.equal('body' in emptyBody.request, false, 'no body: the key is absent, as Kong encodes nil');
    assert.equal(emptyBody.request['raw_body'], '');
    const proxied = await request(`${ctx.gw.proxyUrl}/echo/42`);
    assert.equal(proxied.statusCode, 200);
    assert.equal(((await proxied.body.json()) as EchoedRequest).method, 'GET', 'without the trigger the upstream answers');
  });
});
