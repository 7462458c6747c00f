import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { EchoedRequest } from '../helpers/servers.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

describe('request-transformer plugin', () => {
  const ctx = useEchoGateway((upstream) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: headers
        paths: [/headers]
        plugins:
          - name: request-transformer
            config:
              remove: { headers: [X-Remove] }
              rename: { headers: ["X-Old:X-New"] }
              replace: { headers: ["X-Replace:new-$(headers.x-source)", "X-Absent:never"] }
              add: { headers: ["X-Added:$(query_params.user)", "X-Existing:ignored", "X-Fallback:$(headers.x-none or \\"anon\\")"] }
              append: { headers: ["X-Multi:two"] }
      - name: query
        paths: [/query]
        plugins:
          - name: request-transformer
            config:
              remove: { querystring: [drop] }
              rename: { querystring: ["old:new"] }
              replace: { querystring: ["swap:swapped", "missing:never"] }
              add: { querystring: ["user:$(headers.x-user)", "keep:ignored"] }
              append: { querystring: ["list:2"] }
      - name: body
        paths: [/body]
        plugins:
          - name: request-transformer
            config:
              remove: { body: [secret] }
              rename: { body: ["old:new"] }
              replace: { body: ["status:replaced", "missing:never"] }
              add: { body: ["from_header:$(headers.x-user)", "kept:ignored"] }
              append: { body: ["tags:b"] }
      - name: captures
        paths: ["~/users/(?<id>\\\\d+)/items/(\\\\d+)$"]
        plugins:
          - name: request-transformer
            config:
              replace: { uri: "/v2/users/$(uri_captures.id)/item-$(uri_captures[2])" }
              add:
                headers: ["X-User-Id:$(uri_captures.id)", "X-Item:$(uri_captures[2])"]
                querystring: ["uid:$(uri_captures.id)"]
      - name: method
        paths: [/method]
        plugins: [{ name: request-transformer, config: { http_method: GET } }]
`);

  async function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<EchoedRequest> {
    const res = await request(`${ctx.gw.proxyUrl}${path}`, { method: (options.method ?? 'GET') as 'GET', headers: options.headers ?? {}, body: options.body ?? null });
    assert.equal(res.statusCode, 200);
    return (await res.body.json()) as EchoedRequest;
  }

  test('headers: remove, rename, replace (existing only), add (missing only), append, with templates', async () => {
    const { headers } = await send('/headers?user=alice', {
      headers: { 'x-remove': 'x', 'x-old': 'moved', 'x-replace': 'old', 'x-source': 'src', 'x-existing': 'mine', 'x-multi': 'one' },
    });
    assert.equal(headers['x-remove'], undefined);
    assert.equal(headers['x-old'], undefined);
    assert.equal(headers['x-new'], 'moved');
    assert.equal(headers['x-replace'], 'new-src');
    assert.equal(headers['x-absent'], undefined);
    assert.equal(headers['x-added'], 'alice');
    assert.equal(headers['x-existing'], 'mine');
    assert.equal(headers['x-fallback'], 'anon');
    assert.equal(headers['x-multi'], 'one, two');
  });

  test('querystring: remove, rename, replace, add, append, with a template from a header', async () => {
    const { url } = await send('/query?drop=1&old=o&swap=s&keep=k&list=1', { headers: { 'x-user': 'bob' } });
    const query = new URL(url, 'http://x').searchParams;
    assert.equal(query.get('drop'), null);
    assert.equal(query.get('old'), null);
    assert.equal(query.get('new'), 'o');
    assert.equal(query.get('swap'), 'swapped');
    assert.equal(query.get('missing'), null);
    assert.equal(query.get('user'), 'bob');
    assert.equal(query.get('keep'), 'k');
    assert.deepEqual(query.getAll('list'), ['1', '2']);
  });

  test('JSON body: remove, rename, replace, add, append; Content-Length matches the new body', async () => {
    const echoed = await send('/body', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'carol' },
      body: JSON.stringify({ secret: 's', old: 1, status: 'draft', kept: 'mine', tags: 'a', other: { deep: true } }),
    });
    assert.deepEqual(JSON.parse(echoed.body), { new: 1, status: 'replaced', kept: 'mine', tags: ['a', 'b'], other: { deep: true }, from_header: 'carol' });
    assert.equal(Number(echoed.headers['content-length']), Buffer.byteLength(echoed.body));
    assert.match(String(echoed.headers['content-type']), /application\/json/);
  });

  test('an empty JSON body gets the added and appended keys only', async () => {
    const echoed = await send('/body', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'dan' } });
    assert.deepEqual(JSON.parse(echoed.body), { from_header: 'dan', kept: 'ignored', tags: ['b'] });
  });

  test('urlencoded body', async () => {
    const echoed = await send('/body', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-user': 'erin' },
      body: 'secret=s&old=1&status=draft&tags=a',
    });
    const form = new URLSearchParams(echoed.body);
    assert.equal(form.get('secret'), null);
    assert.equal(form.get('new'), '1');
    assert.equal(form.get('status'), 'replaced');
    assert.equal(form.get('from_header'), 'erin');
    assert.deepEqual(form.getAll('tags'), ['a', 'b']);
  });

  test('bodies of other types (or without Content-Type) pass unchanged', async () => {
    const text = await send('/body', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'secret=s' });
    assert.equal(text.body, 'secret=s');
    const notObject = await send('/body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
    assert.equal(notObject.body, '[1,2]');
  });

  test('regex route: named and positional uri captures in the path, headers and query', async () => {
    const echoed = await send('/users/17/items/3?x=1');
    assert.equal(echoed.url, '/v2/users/17/item-3?x=1&uid=17');
    assert.equal(echoed.headers['x-user-id'], '17');
    assert.equal(echoed.headers['x-item'], '3');
  });

  test('http_method GET moves a urlencoded form into the querystring', async () => {
    const echoed = await send('/method?a=1', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=2&b=3' });
    assert.equal(echoed.method, 'GET');
    const query = new URL(echoed.url, 'http://x').searchParams;
    assert.deepEqual(query.getAll('a'), ['1', '2']);
    assert.equal(query.get('b'), '3');
  });
});
