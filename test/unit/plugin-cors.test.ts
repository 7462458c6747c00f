import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBundledRegistry } from '../../src/plugins/registry.ts';
import { compile } from '../../src/plugins/bundled/cors/handler.ts';
import { compileOrigins, normalizeOrigin } from '../../src/plugins/bundled/cors/origins.ts';
import type { Config } from '../../src/plugins/bundled/cors/schema.ts';
import { validPluginConfig } from '../helpers/plugin-config.ts';

const config = (raw: Record<string, unknown>) => validPluginConfig<Config>('cors', raw);

describe('cors origins', () => {
  test('normalization: lower-cased, default ports dropped, path ignored; non-URLs as written', () => {
    assert.deepEqual(normalizeOrigin('HTTPS://Api.Example.COM:443/x'), { domain: 'https://api.example.com', host: 'api.example.com' });
    assert.deepEqual(normalizeOrigin('http://a.test:8080'), { domain: 'http://a.test:8080', host: 'a.test' });
    assert.deepEqual(normalizeOrigin('null'), { domain: 'null', host: 'null' });
  });

  test('regexes are anchored at both ends; an explicit ^ or $ is accepted', () => {
    const m = compileOrigins(['^https://.*\\.good\\.com$', 'http://(a|b)\\.test']);
    assert.equal(m.match('https://x.good.com'), true);
    assert.equal(m.match('https://x.good.com.evil.test'), false);
    assert.equal(m.match('evilhttps://x.good.com'), false);
    assert.equal(m.match('http://b.test'), true);
    assert.equal(m.match('http://b.test.evil'), false);
  });

  test('a regex without ":" is matched against the host only', () => {
    const m = compileOrigins(['.*\\.host\\.org']);
    assert.equal(m.match('https://a.host.org'), true);
    assert.equal(m.match('http://a.host.org:81'), true);
    assert.equal(m.match('https://a.host.org.evil'), false);
  });

  test('PCRE named groups are accepted', () => {
    assert.equal(compileOrigins(['https://(?P<sub>[a-z]+)\\.x\\.com']).match('https://abc.x.com'), true);
  });

  test('an invalid regex is a load error naming the entry', () => {
    assert.throws(() => compile(config({ origins: ['*.example.com'] })), /origins: '\*\.example\.com' is not a valid regex/);
  });

  test("defaults: Kong's methods, no credentials, every origin", () => {
    const c = compile(config({}));
    assert.equal(c.allowAll, true);
    assert.equal(c.allowMethods, 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT');
    assert.equal(c.credentials, false);
    assert.equal(compile(config({ origins: ['*'] })).allowAll, true);
    const mixed = compile(config({ origins: ['*', 'http://a.test'] }));
    assert.equal(mixed.allowAll, false, 'answered with the origin, not *');
    assert.equal(mixed.origins.match('http://elsewhere.test'), true);
  });

  test('cors cannot be scoped to a consumer', () => {
    assert.equal(createBundledRegistry().get('cors')?.scopes?.consumer, false);
  });
});
