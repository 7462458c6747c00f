import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBundledRegistry } from '../../src/plugins/registry.ts';
import { GENERATORS } from '../../src/plugins/bundled/correlation-id/generators.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';

const kong = { request: { getHost: () => 'gw.test', getPort: () => 8000 } } as unknown as Pdk;

describe('correlation-id', () => {
  test("Kong's defaults: Kong-Request-ID, uuid#counter, not echoed", () => {
    const result = createBundledRegistry().validateConfig('correlation-id', {});
    assert.deepEqual(result.ok && result.config, { header_name: 'Kong-Request-ID', generator: 'uuid#counter', echo_downstream: false });
    assert.equal(createBundledRegistry().validateConfig('correlation-id', { generator: 'random' }).ok, false);
  });

  test('uuid#counter: one uuid per process and an increasing counter', () => {
    const [u1, c1] = GENERATORS['uuid#counter'](kong).split('#');
    const [u2, c2] = GENERATORS['uuid#counter'](kong).split('#');
    assert.equal(u1, u2);
    assert.equal(Number(c2), Number(c1) + 1);
  });

  test('uuid: a fresh v4 uuid each time', () => {
    const a = GENERATORS.uuid(kong);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, GENERATORS.uuid(kong));
  });

  test('tracker: host-port-pid-sequence-seconds', () => {
    assert.match(GENERATORS.tracker(kong), new RegExp(`^gw\\.test-8000-${process.pid}-\\d+-\\d+\\.\\d{3}$`));
  });
});
