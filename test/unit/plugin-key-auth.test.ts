import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { plugin } from '../../src/plugins/bundled/key-auth/index.ts';
import type { Compiled } from '../../src/plugins/bundled/key-auth/handler.ts';
import { keyAuthClock } from '../../src/plugins/bundled/key-auth/key-index.ts';
import { withoutQueryArg } from '../../src/plugins/bundled/key-auth/find-key.ts';
import { compileWith, consumerNamed, fakePdk, loadSnapshot, runAccess } from './plugin-key-auth-fake-pdk.ts';

const snapshot = loadSnapshot(`
_format_version: "3.0"
consumers:
  - username: alice
    custom_id: a-1
    keyauth_credentials:
      - key: alice-key
  - username: bob
    keyauth_credentials:
      - key: bob-key
        ttl: 60
  - username: guest
`);

const compile = (config: Record<string, unknown> = {}) => compileWith<Compiled>(plugin, config, snapshot);
const challenge = { 'WWW-Authenticate': 'Key realm="kong"' };

describe('key-auth access', () => {
  const realNow = keyAuthClock.now;
  afterEach(() => {
    keyAuthClock.now = realNow;
  });

  test('a known key in the apikey header authenticates its consumer and credential', async () => {
    const out = await runAccess(plugin, compile(), snapshot, { headers: { apikey: 'alice-key' } });
    assert.equal(out.exit, undefined);
    assert.equal(out.authenticated?.consumer?.username, 'alice');
    assert.equal(out.authenticated?.credential?.key, 'alice-key');
    assert.equal(out.authenticated?.anonymous, false);
  });

  test('the key in the query string works too, and key names are matched case-insensitively as headers', async () => {
    const conf = compile({ key_names: ['X-Api-Key'] });
    assert.equal((await runAccess(plugin, conf, snapshot, { query: 'X-Api-Key=alice-key' })).authenticated?.consumer?.username, 'alice');
    assert.equal((await runAccess(plugin, conf, snapshot, { headers: { 'x-api-key': 'alice-key' } })).authenticated?.consumer?.username, 'alice');
  });

  test('no key answers 401 "No API key found in request" with the Key challenge', async () => {
    const out = await runAccess(plugin, compile(), snapshot, {});
    assert.deepEqual(out.exit, { status: 401, message: 'No API key found in request', headers: challenge });
    const empty = await runAccess(plugin, compile(), snapshot, { headers: { apikey: '' } });
    assert.equal(empty.exit?.message, 'No API key found in request');
  });

  test('an unknown key answers 401 "Unauthorized"; the configured realm names the challenge', async () => {
    const out = await runAccess(plugin, compile({ realm: 'api' }), snapshot, { headers: { apikey: 'nope' } });
    assert.deepEqual(out.exit, { status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': 'Key realm="api"' } });
  });

  test('a key name given twice answers 401 "Duplicate API key found"', async () => {
    for (const req of [{ query: 'apikey=a&apikey=b' }, { headers: { apikey: ['a', 'b'] } }]) {
      const out = await runAccess(plugin, compile(), snapshot, req);
      assert.deepEqual(out.exit, { status: 401, message: 'Duplicate API key found', headers: challenge });
    }
  });

  test('key_in_header / key_in_query false ignore those places', async () => {
    const noHeader = await runAccess(plugin, compile({ key_in_header: false }), snapshot, { headers: { apikey: 'alice-key' } });
    assert.equal(noHeader.exit?.message, 'No API key found in request');
    const noQuery = await runAccess(plugin, compile({ key_in_query: false }), snapshot, { query: 'apikey=alice-key' });
    assert.equal(noQuery.exit?.message, 'No API key found in request');
  });

  test('key_in_body reads the parsed body only when the key is not elsewhere', async () => {
    const conf = compile({ key_in_body: true });
    const fromBody = await runAccess(plugin, conf, snapshot, { body: { apikey: 'alice-key', other: 1 } });
    assert.equal(fromBody.authenticated?.consumer?.username, 'alice');
    const fromHeader = await runAccess(plugin, conf, snapshot, { headers: { apikey: 'alice-key' }, body: { apikey: 'x' } });
    assert.equal(fromHeader.bodyReads, 0);
    const notEnabled = await runAccess(plugin, compile(), snapshot, { body: { apikey: 'alice-key' } });
    assert.equal(notEnabled.bodyReads, 0);
    assert.equal(notEnabled.exit?.message, 'No API key found in request');
  });

  test('synchronous unless the body is needed: a header key costs no promise, a body key (or a later name) waits for the body', async () => {
    const access = plugin.handler.access as (kong: unknown, conf: Compiled) => void | Promise<void>;
    const header = fakePdk(snapshot, { headers: { apikey: 'alice-key' } });
    assert.equal(access(header.pdk, compile({ key_in_body: true })), undefined);
    assert.equal(header.outcome.authenticated?.consumer?.username, 'alice');
    const unknown = fakePdk(snapshot, { headers: { apikey: 'nope' } });
    assert.equal(access(unknown.pdk, compile()), undefined);
    assert.equal(unknown.outcome.exit?.status, 401);
    // The first name is nowhere but in the body: the body is read, and the second name's header is still seen after it.
    const later = fakePdk(snapshot, { headers: { second: 'bob-key' }, body: { other: 1 } });
    const pending = access(later.pdk, compile({ key_in_body: true, key_names: ['first', 'second'] }));
    assert.ok(pending instanceof Promise);
    await pending;
    assert.equal(later.outcome.bodyReads, 1);
    assert.equal(later.outcome.authenticated?.consumer?.username, 'bob');
    // hide_credentials with key_in_body scrubs the body too when the key came in a header.
    const hidden = fakePdk(snapshot, { headers: { apikey: 'alice-key', 'content-type': 'application/json' }, body: { apikey: 'alice-key', keep: 1 } });
    const scrub = access(hidden.pdk, compile({ key_in_body: true, hide_credentials: true }));
    assert.ok(scrub instanceof Promise);
    await scrub;
    assert.equal(hidden.outcome.authenticated?.consumer?.username, 'alice');
    assert.deepEqual(hidden.outcome.body, { value: { keep: 1 }, contentType: 'application/json' });
  });

  test('the first key name carrying a value wins', async () => {
    const conf = compile({ key_names: ['first', 'second'] });
    const out = await runAccess(plugin, conf, snapshot, { headers: { second: 'bob-key' }, query: 'first=alice-key' });
    assert.equal(out.authenticated?.consumer?.username, 'alice');
  });

  test('hide_credentials removes the key from header, query and body upstream', async () => {
    const conf = compile({ hide_credentials: true, key_in_body: true });
    const out = await runAccess(plugin, conf, snapshot, {
      headers: { 'content-type': 'application/json' },
      query: 'a=1&apikey=alice-key&b=2',
      body: { apikey: 'alice-key', keep: true },
    });
    assert.equal(out.authenticated?.consumer?.username, 'alice');
    assert.equal(out.upstreamHeaders.apikey, null);
    assert.equal(out.rawQuery, 'a=1&b=2');
    assert.deepEqual(out.body, { value: { keep: true }, contentType: 'application/json' });
  });

  test('without hide_credentials nothing upstream changes', async () => {
    const out = await runAccess(plugin, compile(), snapshot, { query: 'apikey=alice-key' });
    assert.deepEqual(out.upstreamHeaders, {});
    assert.equal(out.rawQuery, undefined);
  });

  test('run_on_preflight false lets OPTIONS through unauthenticated', async () => {
    const skipped = await runAccess(plugin, compile({ run_on_preflight: false }), snapshot, { method: 'OPTIONS' });
    assert.equal(skipped.exit, undefined);
    assert.equal(skipped.authenticated, undefined);
    const checked = await runAccess(plugin, compile(), snapshot, { method: 'OPTIONS' });
    assert.equal(checked.exit?.status, 401);
  });

  test('anonymous (by username or id) replaces any failure with the anonymous consumer', async () => {
    const guest = consumerNamed(snapshot, 'guest');
    for (const anonymous of ['guest', guest.id]) {
      const out = await runAccess(plugin, compile({ anonymous }), snapshot, { headers: { apikey: 'wrong' } });
      assert.equal(out.exit, undefined);
      assert.deepEqual(out.authenticated, { consumer: guest, credential: undefined, anonymous: true });
    }
  });

  test('anonymous leaves a request another auth plugin already authenticated alone', async () => {
    const alice = consumerNamed(snapshot, 'alice');
    const out = await runAccess(plugin, compile({ anonymous: 'guest' }), snapshot, {
      consumer: alice,
      credential: { id: 'c', consumer: alice.id },
    });
    assert.equal(out.authenticated, undefined);
    assert.equal(out.exit, undefined);
  });

  test('without anonymous, an earlier authentication does not excuse a missing key (logical AND)', async () => {
    const alice = consumerNamed(snapshot, 'alice');
    const out = await runAccess(plugin, compile(), snapshot, { consumer: alice, credential: { id: 'c', consumer: alice.id } });
    assert.equal(out.exit?.status, 401);
  });

  test('an anonymous consumer that does not exist answers 500 with Kong\'s message', async () => {
    const out = await runAccess(plugin, compile({ anonymous: 'ghost' }), snapshot, {});
    assert.deepEqual(out.exit, { status: 500, message: "anonymous consumer ghost is configured but doesn't exist", headers: undefined });
  });

  test('a credential ttl counts from the snapshot load; ttl elapsed is an unknown key', async () => {
    let now = 1_000_000;
    keyAuthClock.now = () => now;
    const conf = compileWith<Compiled>(plugin, {}, snapshot);
    now += 59_000;
    assert.equal((await runAccess(plugin, conf, snapshot, { headers: { apikey: 'bob-key' } })).authenticated?.consumer?.username, 'bob');
    now += 1_000;
    assert.equal((await runAccess(plugin, conf, snapshot, { headers: { apikey: 'bob-key' } })).exit?.message, 'Unauthorized');
    assert.equal((await runAccess(plugin, conf, snapshot, { headers: { apikey: 'alice-key' } })).exit, undefined);
  });

  test('the key index is built once per snapshot and shared by instances', () => {
    const memo = new Map<string, unknown>();
    const a = compileWith<Compiled>(plugin, {}, snapshot, memo);
    const b = compileWith<Compiled>(plugin, { key_names: ['k'] }, snapshot, memo);
    assert.equal(a.keys, b.keys);
  });

  test('config schema: Kong defaults, header-name key names, unknown fields refused', async () => {
    const { PluginRegistry } = await import('../../src/plugins/registry.ts');
    const registry = new PluginRegistry();
    registry.register(plugin);
    const ok = registry.validateConfig('key-auth', {});
    assert.deepEqual(ok.ok && ok.config, {
      key_names: ['apikey'],
      hide_credentials: false,
      key_in_header: true,
      key_in_query: true,
      key_in_body: false,
      run_on_preflight: true,
    });
    assert.equal(registry.validateConfig('key-auth', { key_names: ['bad name'] }).ok, false);
    assert.equal(registry.validateConfig('key-auth', { key_names: [] }).ok, false);
    assert.equal(registry.validateConfig('key-auth', { keyname: 'x' }).ok, false);
    assert.equal(registry.validateConfig('key-auth', { anonymous: null, realm: null }).ok, true);
  });
});

describe('withoutQueryArg', () => {
  test('drops every occurrence of the name, encoded or not, and keeps the rest byte for byte', () => {
    assert.equal(withoutQueryArg('apikey=1', 'apikey'), '');
    assert.equal(withoutQueryArg('a=%20x&api%6Bey=1&apikey&b=c+d', 'apikey'), 'a=%20x&b=c+d');
    assert.equal(withoutQueryArg('x=%E0%A4%A', 'apikey'), 'x=%E0%A4%A');
  });
});
