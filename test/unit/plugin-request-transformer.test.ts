import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBundledRegistry } from '../../src/plugins/registry.ts';
import { compile } from '../../src/plugins/bundled/request-transformer/handler.ts';
import { splitEntry } from '../../src/plugins/bundled/request-transformer/entries.ts';
import type { Config } from '../../src/plugins/bundled/request-transformer/schema.ts';
import { validPluginConfig } from '../helpers/plugin-config.ts';

const config = (raw: Record<string, unknown>) => validPluginConfig<Config>('request-transformer', raw);

describe('request-transformer config', () => {
  test('every list defaults to [] as in Kong', () => {
    const c = config({});
    for (const op of ['remove', 'rename', 'replace', 'add', 'append'] as const) {
      assert.deepEqual({ body: c[op].body, headers: c[op].headers, querystring: c[op].querystring }, { body: [], headers: [], querystring: [] });
    }
  });

  test('unknown fields are refused', () => {
    const result = createBundledRegistry().validateConfig('request-transformer', { add: { json: [] } });
    assert.equal(result.ok, false);
  });

  test("entries split at the first colon, extra colons skipped (Kong's ^([^:]+):*(.-)$)", () => {
    assert.deepEqual(splitEntry('x:a:b'), { name: 'x', value: 'a:b' });
    assert.deepEqual(splitEntry('x::b'), { name: 'x', value: 'b' });
    assert.deepEqual(splitEntry('x'), { name: 'x', value: '' });
  });

  test('templates are compiled once; a static value stays static', () => {
    const c = compile(config({ add: { headers: ['X-A:$(headers.x-b)', 'X-C:plain'] } }));
    assert.equal(c.headers.add[0]?.value.isStatic, false);
    assert.equal(c.headers.add[1]?.value.isStatic, true);
  });

  test('an empty header value is a no-op entry (Kong renders it nil)', () => {
    assert.equal(compile(config({ add: { headers: ['X-A:'] } })).headers.add.length, 0);
  });

  for (const [raw, message] of [
    [{ add: { body: ['name'] } }, /add\.body\[0\]: key 'name' has no value/],
    [{ append: { querystring: ['q:'] } }, /append\.querystring\[0\]: key 'q' has no value/],
    [{ add: { headers: ['Bad Header:v'] } }, /'Bad Header' is not a valid header/],
    [{ remove: { headers: ['a b'] } }, /'a b' is not a valid header/],
    [{ rename: { headers: ['X-A:not valid'] } }, /rename\.headers\[0\]: 'not valid' is not a valid header/],
    [{ rename: { headers: ['X-A'] } }, /'' is not a valid header/],
    [{ replace: { querystring: ['q:$(nope.x)'] } }, /replace\.querystring\[0\]: invalid template .*unknown variable 'nope'/],
    [{ replace: { uri: '/v2/$(uri_captures.id' } }, /replace\.uri: invalid template .*missing '\)'/],
  ] as const) {
    test(`load error: ${JSON.stringify(raw)}`, () => {
      assert.throws(() => compile(config(raw)), message);
    });
  }
});
