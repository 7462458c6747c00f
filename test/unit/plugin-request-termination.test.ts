import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBundledRegistry } from '../../src/plugins/registry.ts';
import { compile } from '../../src/plugins/bundled/request-termination/handler.ts';
import type { Config } from '../../src/plugins/bundled/request-termination/schema.ts';
import { validPluginConfig } from '../helpers/plugin-config.ts';

const config = (raw: Record<string, unknown>) => validPluginConfig<Config>('request-termination', raw);

describe('request-termination config', () => {
  test("defaults: 503 with Kong's message", () => {
    const c = compile(config({}));
    assert.equal(c.status, 503);
    assert.deepEqual(c.body, { message: 'Service unavailable' });
    assert.equal(c.headers, undefined);
  });

  test('status codes outside 100..599 are refused by the schema', () => {
    assert.equal(createBundledRegistry().validateConfig('request-termination', { status_code: 600 }).ok, false);
    assert.equal(createBundledRegistry().validateConfig('request-termination', { status_code: 99 }).ok, false);
  });

  test("Kong's entity checks are load errors", () => {
    assert.throws(() => compile(config({ message: 'm', body: 'b' })), /message cannot be used with content_type or body/);
    assert.throws(() => compile(config({ message: 'm', content_type: 'text/plain', body: 'b' })), /message cannot be used/);
    assert.throws(() => compile(config({ content_type: 'text/plain' })), /content_type requires a body/);
  });

  test('body without content_type is sent as given', () => {
    const c = compile(config({ body: 'bye' }));
    assert.equal(c.body, 'bye');
    assert.equal(c.headers, undefined);
  });
});
