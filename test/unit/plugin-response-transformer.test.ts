import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compile, body_filter, header_filter } from '../../src/plugins/bundled/response-transformer/handler.ts';
import { castValue, transformJson } from '../../src/plugins/bundled/response-transformer/json-body.ts';
import type { Config } from '../../src/plugins/bundled/response-transformer/schema.ts';
import type { HeaderValue, Pdk } from '../../src/plugins/pdk/types.ts';
import { validPluginConfig } from '../helpers/plugin-config.ts';

const config = (raw: Record<string, unknown>) => validPluginConfig<Config>('response-transformer', raw);

/** Just enough PDK for the response phases: a header map and ctx.plugin. */
function fakeKong(headers: Record<string, HeaderValue>): Pdk & { headers: Record<string, HeaderValue> } {
  const plugin: Record<string, unknown> = {};
  const noop = () => undefined;
  const kong = {
    headers,
    ctx: { shared: {}, plugin },
    log: { debug: noop, info: noop, warn: noop, error: noop },
    response: {
      getHeader: (name: string) => {
        const v = headers[name.toLowerCase()];
        return typeof v === 'string' ? v : v?.[0];
      },
      getHeaders: () => headers,
      setHeader: (name: string, value: HeaderValue) => void (headers[name.toLowerCase()] = value),
      addHeader: (name: string, value: string) => {
        const v = headers[name.toLowerCase()];
        headers[name.toLowerCase()] = v === undefined ? value : [...(typeof v === 'string' ? [v] : v), value];
      },
      clearHeader: (name: string) => void delete headers[name.toLowerCase()],
    },
  };
  return kong as unknown as Pdk & { headers: Record<string, HeaderValue> };
}

describe('response-transformer', () => {
  test("json_types: Kong's casts; a non-number for `number` skips the entry", () => {
    assert.deepEqual(castValue('5', 'number'), { ok: true, value: 5 });
    assert.deepEqual(castValue('x', 'number'), { ok: false });
    assert.deepEqual(castValue('true', 'boolean'), { ok: true, value: true });
    assert.deepEqual(castValue('yes', 'boolean'), { ok: true, value: false });
    assert.deepEqual(castValue('5', undefined), { ok: true, value: '5' });
  });

  test('transformJson keeps Kong\'s order and leaves non-objects alone', () => {
    const ops = { remove: ['a'], rename: [{ name: 'b', to: 'a' }], replace: [{ name: 'a', value: 'r' }], add: [{ name: 'a', value: 'no' }], append: [{ name: 'a', value: 'x' }] };
    assert.equal(transformJson('{"a":1,"b":2}', ops), '{"a":["r","x"]}');
    assert.equal(transformJson('[1]', ops), undefined);
    assert.equal(transformJson('not json', ops), undefined);
  });

  test('no json operation: the body is never buffered', () => {
    const conf = compile(config({ add: { headers: ['X-A:1'] } }));
    assert.equal(conf.json, undefined);
    const kong = fakeKong({ 'content-type': 'application/json', 'content-length': '2' });
    header_filter(kong, conf);
    assert.equal(kong.headers['content-length'], '2');
    const chunk = Buffer.from('{}');
    assert.equal(body_filter(kong, conf, chunk, false), chunk);
  });

  test('a JSON body is buffered until eof, then transformed', () => {
    const conf = compile(config({ add: { json: ['b:2'], json_types: ['number'] } }));
    const kong = fakeKong({ 'content-type': 'application/json', 'content-length': '7' });
    header_filter(kong, conf);
    assert.equal(kong.headers['content-length'], undefined);
    assert.equal(body_filter(kong, conf, Buffer.from('{"a":'), false).length, 0);
    assert.equal(body_filter(kong, conf, Buffer.from('1}'), false).length, 0);
    assert.equal(body_filter(kong, conf, Buffer.alloc(0), true).toString(), '{"a":1,"b":2}');
  });

  test('SSE and other encodings stream through', () => {
    const conf = compile(config({ remove: { json: ['a'] } }));
    const cases: Record<string, string>[] = [{ 'content-type': 'text/event-stream' }, { 'content-type': 'application/json', 'content-encoding': 'br' }];
    for (const headers of cases) {
      const kong = fakeKong({ ...headers });
      header_filter(kong, conf);
      const chunk = Buffer.from('data: 1\n\n');
      assert.equal(body_filter(kong, conf, chunk, false), chunk);
    }
  });

  test('invalid header names are load errors', () => {
    assert.throws(() => compile(config({ add: { headers: ['Bad Name:v'] } })), /'Bad Name' is not a valid header/);
    assert.throws(() => compile(config({ rename: { headers: ['X-A:bad name'] } })), /'bad name' is not a valid header/);
  });
});
