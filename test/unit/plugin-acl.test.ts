import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { plugin } from '../../src/plugins/bundled/acl/index.ts';
import type { Compiled } from '../../src/plugins/bundled/acl/handler.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { compileWith, consumerNamed, loadSnapshot, runAccess, type FakeRequest } from './plugin-key-auth-fake-pdk.ts';

const snapshot = loadSnapshot(`
_format_version: "3.0"
consumers:
  - username: alice
    acls: [{group: admin}, {group: dev}]
  - username: bob
    acls: [{group: dev}]
  - username: carol
  - username: guest
    acls: [{group: guests}]
`);

const compile = (config: Record<string, unknown>) => compileWith<Compiled>(plugin, config, snapshot);
const forbidden = { status: 403, message: 'You cannot consume this service', headers: undefined };

/** As an auth plugin would leave the request: `name` authenticated with a credential. */
function as(name: string, extra: FakeRequest = {}): FakeRequest {
  const consumer = consumerNamed(snapshot, name);
  return { consumer, credential: { id: `cred-${name}`, consumer: consumer.id }, ...extra };
}
function anonymous(name: string): FakeRequest {
  return { consumer: consumerNamed(snapshot, name) };
}

describe('acl access', () => {
  test('allow: a member of a listed group passes and the upstream learns its groups', async () => {
    const out = await runAccess(plugin, compile({ allow: ['admin'] }), snapshot, as('alice'));
    assert.equal(out.exit, undefined);
    assert.deepEqual(out.upstreamHeaders, { 'x-consumer-groups': 'admin, dev' });
  });

  test('allow: a consumer in none of the groups is 403', async () => {
    assert.deepEqual((await runAccess(plugin, compile({ allow: ['admin'] }), snapshot, as('bob'))).exit, forbidden);
  });

  test('deny: a member of a listed group is 403, others pass', async () => {
    const conf = compile({ deny: ['admin'] });
    assert.deepEqual((await runAccess(plugin, conf, snapshot, as('alice'))).exit, forbidden);
    const bob = await runAccess(plugin, conf, snapshot, as('bob'));
    assert.equal(bob.exit, undefined);
    assert.deepEqual(bob.upstreamHeaders, { 'x-consumer-groups': 'dev' });
  });

  test('a consumer without groups: 403 on an allow list with a credential, allowed on a deny list', async () => {
    assert.deepEqual((await runAccess(plugin, compile({ allow: ['dev'] }), snapshot, as('carol'))).exit, forbidden);
    const denyList = await runAccess(plugin, compile({ deny: ['dev'] }), snapshot, as('carol'));
    assert.equal(denyList.exit, undefined);
    assert.deepEqual(denyList.upstreamHeaders, { 'x-consumer-groups': null });
  });

  test('no authenticated consumer at all is 401 (Kong\'s `kong.response.error(401)`)', async () => {
    const out = await runAccess(plugin, compile({ allow: ['dev'] }), snapshot, {});
    assert.deepEqual(out.exit, { status: 401, message: 'Unauthorized', headers: undefined });
  });

  test('an anonymous consumer is judged by its own groups; without groups on an allow list it is 401', async () => {
    assert.equal((await runAccess(plugin, compile({ allow: ['guests'] }), snapshot, anonymous('guest'))).exit, undefined);
    assert.deepEqual((await runAccess(plugin, compile({ allow: ['dev'] }), snapshot, anonymous('guest'))).exit, forbidden);
    assert.equal((await runAccess(plugin, compile({ allow: ['dev'] }), snapshot, anonymous('carol'))).exit?.status, 401);
  });

  test('hide_groups_header keeps the groups from the upstream (and drops a client-sent one)', async () => {
    const out = await runAccess(plugin, compile({ allow: ['dev'], hide_groups_header: true }), snapshot, as('bob'));
    assert.equal(out.exit, undefined);
    assert.deepEqual(out.upstreamHeaders, { 'x-consumer-groups': null });
  });

  test('authenticated groups (no consumer) decide, sent as X-Authenticated-Groups', async () => {
    const conf = compile({ allow: ['ops'] });
    const ok = await runAccess(plugin, conf, snapshot, { shared: { authenticated_groups: ['ops', 'x'] } });
    assert.equal(ok.exit, undefined);
    assert.deepEqual(ok.upstreamHeaders, { 'x-authenticated-groups': 'ops, x' });
    assert.deepEqual((await runAccess(plugin, conf, snapshot, { shared: { authenticated_groups: ['x'] } })).exit, forbidden);
  });

  test('a consumer with a credential uses its own groups unless always_use_authenticated_groups', async () => {
    const shared = { authenticated_groups: ['ops'] };
    assert.deepEqual((await runAccess(plugin, compile({ allow: ['ops'] }), snapshot, as('bob', { shared }))).exit, forbidden);
    const always = await runAccess(plugin, compile({ allow: ['ops'], always_use_authenticated_groups: true }), snapshot, as('bob', { shared }));
    assert.equal(always.exit, undefined);
    // Without authenticated groups, always_use_authenticated_groups falls back to the consumer's.
    const fallback = await runAccess(plugin, compile({ allow: ['dev'], always_use_authenticated_groups: true }), snapshot, as('bob'));
    assert.equal(fallback.exit, undefined);
  });

  test('groups are indexed once per snapshot and shared by instances', () => {
    const memo = new Map<string, unknown>();
    const a = compileWith<Compiled>(plugin, { allow: ['a'] }, snapshot, memo);
    const b = compileWith<Compiled>(plugin, { deny: ['b'] }, snapshot, memo);
    assert.equal(a.consumers, b.consumers);
  });
});

describe('acl config schema', () => {
  const registry = new PluginRegistry();
  registry.register(plugin);

  test('exactly one of allow and deny lists groups; the other may be null or empty', () => {
    assert.deepEqual(registry.validateConfig('acl', { allow: ['a'] }), {
      ok: true,
      config: { allow: ['a'], hide_groups_header: false, always_use_authenticated_groups: false },
    });
    assert.equal(registry.validateConfig('acl', { deny: ['a'], allow: null }).ok, true);
    assert.equal(registry.validateConfig('acl', { allow: ['a'], deny: [] }).ok, true);
    const atLeastOne = "at least one of these fields must be non-empty: 'config.allow', 'config.deny'";
    const onlyOne = "only one of these fields must be non-empty: 'config.allow', 'config.deny'";
    const cases: [Record<string, unknown>, string][] = [
      [{}, atLeastOne],
      [{ allow: [] }, atLeastOne],
      [{ deny: null }, atLeastOne],
      [{ allow: ['a'], deny: ['b'] }, onlyOne],
    ];
    for (const [bad, message] of cases) {
      assert.deepEqual(registry.validateConfig('acl', bad), { ok: false, issues: [{ path: [], message }] }, JSON.stringify(bad));
    }
  });

  test('a misspelt field is reported at its key', () => {
    const result = registry.validateConfig('acl', { allow: ['a'], hide_group_header: true });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.issues.some((i) => i.message === "unknown field 'hide_group_header'"));
  });
});
