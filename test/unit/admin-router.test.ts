import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminError } from '../../src/admin/errors.ts';
import { compileRoutes } from '../../src/admin/router.ts';
import type { AdminHandler } from '../../src/admin/types.ts';
import { parseEntityPath } from '../../src/admin/declarative-errors.ts';
import { setField } from '../../src/admin/fields.ts';
import { decodeOffset, encodeOffset } from '../../src/admin/pagination.ts';

const named = (name: string): AdminHandler => () => ({ status: 200, body: name });
const errorCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof AdminError ? error.code : error;
  }
  return undefined;
};

test('a static segment beats a parameter whatever the table order', () => {
  const one = named('one');
  const enabled = named('enabled');
  const router = compileRoutes([
    { method: 'GET', pattern: '/plugins/:id', handler: one },
    { method: 'GET', pattern: '/plugins/enabled', handler: enabled },
    { method: 'GET', pattern: '/plugins', handler: named('list') },
  ]);
  assert.equal(router.match('GET', '/plugins/enabled').handler, enabled);
  assert.equal(router.match('GET', '/plugins/abc').handler, one);
  assert.deepEqual(router.match('GET', '/plugins/abc').params, { id: 'abc' });
  assert.equal(errorCode(() => router.match('GET', '/plugins/a/b')), 'NOT_FOUND');
  assert.deepEqual(router.patterns, ['/plugins', '/plugins/:id', '/plugins/enabled']);
});

test('405 only when no matching pattern serves the method; HEAD falls back to GET', () => {
  const router = compileRoutes([
    { method: 'GET', pattern: '/schemas/plugins/:name', handler: named('schema') },
    { method: 'POST', pattern: '/schemas/:entity/validate', handler: named('validate') },
    { method: 'POST', pattern: '/schemas/plugins/validate', handler: named('plugin-validate') },
  ]);
  assert.deepEqual(router.match('POST', '/schemas/services/validate').params, { entity: 'services' });
  assert.deepEqual(router.match('GET', '/schemas/plugins/cors').params, { name: 'cors' });
  assert.deepEqual(router.match('HEAD', '/schemas/plugins/cors').params, { name: 'cors' });
  assert.equal(errorCode(() => router.match('DELETE', '/schemas/plugins/cors')), 'METHOD_NOT_ALLOWED');
});

test('segments are decoded one by one; a malformed escape is a 404', () => {
  const router = compileRoutes([{ method: 'GET', pattern: '/services/:id', handler: named('one') }]);
  assert.deepEqual(router.match('GET', '/services/a%2Fb').params, { id: 'a/b' });
  assert.equal(errorCode(() => router.match('GET', '/services/%E0%A4%A')), 'NOT_FOUND');
});

test('registering the same method and pattern twice is a programming error', () => {
  assert.throws(() => compileRoutes([
    { method: 'GET', pattern: '/x', handler: named('a') },
    { method: 'get', pattern: '/x', handler: named('b') },
  ]), /registered twice/);
});

test('offset tokens round-trip; anything else is refused', () => {
  assert.equal(decodeOffset(encodeOffset(1234)), 1234);
  assert.equal(errorCode(() => decodeOffset('%%%')), 'INVALID_OFFSET');
  for (const forged of ['[-1]', '[1.5]', '{"x":1}', 'not json']) {
    const token = Buffer.from(forged).toString('base64url');
    assert.throws(() => decodeOffset(token), (e: unknown) => e instanceof AdminError && e.message === `'${token}' is not a valid offset: bad offset`, forged);
  }
});

test('entity paths parse back into segments', () => {
  assert.deepEqual(parseEntityPath('services[0].routes[12].paths[0]'), ['services', 0, 'routes', 12, 'paths', 0]);
  assert.deepEqual(parseEntityPath('plugins[1].config["odd key"]'), ['plugins', 1, 'config', 'odd key']);
  assert.deepEqual(parseEntityPath(''), []);
});

test('Kong\'s fields tree: arrays with null holes, @entity for whole-entity messages', () => {
  const fields: Record<string, unknown> = {};
  setField(fields, ['services', 1, 'port'], 'too big');
  setField(fields, ['services', 1], 'needs a host', { entity: true });
  setField(fields, ['services', 1, 'port'], 'not with url');
  setField(fields, ['_format_version'], 'missing');
  assert.deepEqual(fields, { services: [null, { port: 'too big; not with url', '@entity': ['needs a host'] }], _format_version: 'missing' });
});
