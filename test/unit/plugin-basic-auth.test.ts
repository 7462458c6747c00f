import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { plugin } from '../../src/plugins/bundled/basic-auth/index.ts';
import type { Compiled } from '../../src/plugins/bundled/basic-auth/handler.ts';
import { parseBasicAuthorization } from '../../src/plugins/bundled/basic-auth/parse-header.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { compileWith, consumerNamed, loadSnapshot, runAccess } from './plugin-key-auth-fake-pdk.ts';

const snapshot = loadSnapshot(`
_format_version: "3.0"
consumers:
  - username: alice
    basicauth_credentials:
      - username: alice-login
        password: "s3cret:with:colons"
  - username: bob
    basicauth_credentials:
      - username: bob
        password: hunter2
  - username: guest
`);

const compile = (config: Record<string, unknown> = {}) => compileWith<Compiled>(plugin, config, snapshot);
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;
const refused = { status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': 'Basic realm="service"' } };

describe('basic-auth access', () => {
  test('a right username and password authenticate the credential\'s consumer', async () => {
    const out = await runAccess(plugin, compile(), snapshot, { headers: { authorization: basic('alice-login:s3cret:with:colons') } });
    assert.equal(out.exit, undefined);
    assert.equal(out.authenticated?.consumer?.username, 'alice');
    assert.equal(out.authenticated?.credential?.username, 'alice-login');
  });

  test('a wrong password, an unknown user, no header: 401 Unauthorized with the Basic challenge', async () => {
    for (const headers of [{ authorization: basic('bob:wrong') }, { authorization: basic('nobody:hunter2') }, {}] as Record<string, string>[]) {
      assert.deepEqual((await runAccess(plugin, compile(), snapshot, { headers })).exit, refused);
    }
  });

  test('malformed headers are 401 Unauthorized too', async () => {
    for (const value of ['Bearer abc', 'Basic !!!notbase64', basic('no-colon'), basic(':only-password'), 'Basic']) {
      assert.deepEqual((await runAccess(plugin, compile(), snapshot, { headers: { authorization: value } })).exit, refused, value);
    }
  });

  test('the realm is configurable', async () => {
    const out = await runAccess(plugin, compile({ realm: 'api' }), snapshot, {});
    assert.deepEqual(out.exit?.headers, { 'WWW-Authenticate': 'Basic realm="api"' });
  });

  test('Proxy-Authorization is tried first; Authorization when it names nobody', async () => {
    const proxyWins = await runAccess(plugin, compile(), snapshot, {
      headers: { 'proxy-authorization': basic('bob:hunter2'), authorization: basic('alice-login:s3cret:with:colons') },
    });
    assert.equal(proxyWins.authenticated?.consumer?.username, 'bob');
    const fallback = await runAccess(plugin, compile(), snapshot, {
      headers: { 'proxy-authorization': basic('nobody:x'), authorization: basic('bob:hunter2') },
    });
    assert.equal(fallback.authenticated?.consumer?.username, 'bob');
    const wrongProxyPassword = await runAccess(plugin, compile(), snapshot, {
      headers: { 'proxy-authorization': basic('bob:nope'), authorization: basic('bob:hunter2') },
    });
    assert.deepEqual(wrongProxyPassword.exit, refused);
  });

  test('hide_credentials drops the header upstream', async () => {
    const out = await runAccess(plugin, compile({ hide_credentials: true }), snapshot, { headers: { authorization: basic('bob:hunter2') } });
    assert.equal(out.authenticated?.consumer?.username, 'bob');
    assert.equal(out.upstreamHeaders.authorization, null);
    const kept = await runAccess(plugin, compile(), snapshot, { headers: { authorization: basic('bob:hunter2') } });
    assert.deepEqual(kept.upstreamHeaders, {});
  });

  test('anonymous turns any failure into the anonymous consumer, and skips already-authenticated requests', async () => {
    const guest = consumerNamed(snapshot, 'guest');
    const out = await runAccess(plugin, compile({ anonymous: 'guest' }), snapshot, { headers: { authorization: basic('bob:wrong') } });
    assert.deepEqual(out.authenticated, { consumer: guest, credential: undefined, anonymous: true });
    const bob = consumerNamed(snapshot, 'bob');
    const already = await runAccess(plugin, compile({ anonymous: 'guest' }), snapshot, { consumer: bob, credential: { id: 'k', consumer: bob.id } });
    assert.equal(already.authenticated, undefined);
    const ghost = await runAccess(plugin, compile({ anonymous: 'ghost' }), snapshot, {});
    assert.equal(ghost.exit?.status, 500);
  });

  test('passwords stored already hashed (_transform: false) are checked the same way', async () => {
    const { createHash } = await import('node:crypto');
    const id = '7e5ba8d6-5ec4-4a4b-a3c0-5bb3cf3bf6b0';
    const hashed = createHash('sha1').update(`pw${id}`).digest('hex');
    const raw = loadSnapshot(`
_format_version: "3.0"
_transform: false
consumers:
  - id: ${id}
    username: carol
    basicauth_credentials:
      - username: carol
        password: ${hashed}
`);
    const conf = compileWith<Compiled>(plugin, {}, raw);
    assert.equal((await runAccess(plugin, conf, raw, { headers: { authorization: basic('carol:pw') } })).authenticated?.consumer?.username, 'carol');
    assert.equal((await runAccess(plugin, conf, raw, { headers: { authorization: basic(`carol:${hashed}`) } })).exit?.status, 401);
  });

  test('config schema: realm defaults to "service", unknown fields refused', () => {
    const registry = new PluginRegistry();
    registry.register(plugin);
    const ok = registry.validateConfig('basic-auth', {});
    assert.deepEqual(ok.ok && ok.config, { hide_credentials: false, realm: 'service' });
    assert.equal(registry.validateConfig('basic-auth', { hide_credential: true }).ok, false);
  });
});

describe('parseBasicAuthorization (Kong\'s parsing)', () => {
  test('username before the first colon, password the rest (possibly empty)', () => {
    assert.deepEqual(parseBasicAuthorization(basic('u:p:q')), { username: 'u', password: 'p:q' });
    assert.deepEqual(parseBasicAuthorization(basic('u:')), { username: 'u', password: '' });
    assert.deepEqual(parseBasicAuthorization(`basic ${Buffer.from('u:p').toString('base64')}`), { username: 'u', password: 'p' });
  });

  test('base64 as nginx decodes it: padding optional, stray characters refused', () => {
    assert.deepEqual(parseBasicAuthorization('Basic dTpw'), { username: 'u', password: 'p' });
    assert.deepEqual(parseBasicAuthorization('Basic dTpwcQ'), { username: 'u', password: 'pq' });
    assert.equal(parseBasicAuthorization('Basic dTp*'), undefined);
    assert.equal(parseBasicAuthorization('Basic dTpwc'), undefined);
  });
});
