import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { EchoedRequest } from '../helpers/servers.ts';
import { startGateway, useEchoGateway, type TestGateway } from '../helpers/gateway.ts';

/** acl behind key-auth, through real sockets. */

const config = (upstream: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    acls: [{ group: admin }, { group: dev }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
    acls: [{ group: dev }]
  - username: carol
    keyauth_credentials: [{ key: carol-key }]
  - username: guest
    acls: [{ group: guests }]
services:
  - name: echo
    url: ${upstream}
    plugins:
      - name: key-auth
    routes:
      - name: admins
        paths: [/admins]
        plugins: [{ name: acl, config: { allow: [admin] } }]
      - name: no-dev
        paths: [/no-dev]
        plugins: [{ name: acl, config: { deny: [dev] } }]
      - name: hidden
        paths: [/hidden]
        plugins: [{ name: acl, config: { allow: [dev], hide_groups_header: true } }]
      - name: db-export
        paths: [/exported]
        plugins: [{ name: acl, config: { allow: null, deny: [admin] } }]
  - name: open
    url: ${upstream}
    routes:
      - name: acl-only
        paths: [/acl-only]
        plugins: [{ name: acl, config: { allow: [dev] } }]
      - name: guests
        paths: [/guests]
        plugins:
          - { name: key-auth, config: { anonymous: guest } }
          - { name: acl, config: { allow: [guests, dev] } }
      - name: members
        paths: [/members]
        plugins:
          - { name: key-auth, config: { anonymous: guest } }
          - { name: acl, config: { allow: [dev] } }
`;

const FORBIDDEN = 'You cannot consume this service';

async function call(gw: TestGateway, path: string, key?: string, headers: Record<string, string> = {}) {
  const res = await request(`${gw.proxyUrl}${path}`, { headers: { ...(key ? { apikey: key } : {}), ...headers } });
  const body = (await res.body.json()) as EchoedRequest & { message?: string };
  return { status: res.statusCode, body };
}

describe('acl through the gateway', () => {
  const ctx = useEchoGateway(config);

  test('allow: a member passes and the upstream gets X-Consumer-Groups, comma-separated', async () => {
    const res = await call(ctx.gw, '/admins', 'alice');
    assert.equal(res.status, 401, 'an unknown key is still refused by key-auth first');
    const alice = await call(ctx.gw, '/admins', 'alice-key', { 'x-consumer-groups': 'forged' });
    assert.equal(alice.status, 200);
    assert.equal(alice.body.headers['x-consumer-groups'], 'admin, dev');
    assert.equal(alice.body.headers['x-consumer-username'], 'alice');
  });

  test('allow: a consumer outside the groups, or without any group, is 403 "You cannot consume this service"', async () => {
    for (const key of ['bob-key', 'carol-key']) {
      const res = await call(ctx.gw, '/admins', key);
      assert.equal(res.status, 403, key);
      assert.equal(res.body.message, FORBIDDEN);
    }
  });

  test('deny: a member of a denied group is 403, everyone else passes', async () => {
    assert.equal((await call(ctx.gw, '/no-dev', 'bob-key')).status, 403);
    assert.equal((await call(ctx.gw, '/no-dev', 'alice-key')).body.message, FORBIDDEN);
    const carol = await call(ctx.gw, '/no-dev', 'carol-key', { 'x-consumer-groups': 'forged' });
    assert.equal(carol.status, 200);
    assert.equal(carol.body.headers['x-consumer-groups'], undefined);
  });

  test('a deny list with allow: null (as kong config db_export writes it) loads and applies', async () => {
    assert.equal((await call(ctx.gw, '/exported', 'alice-key')).status, 403);
    assert.equal((await call(ctx.gw, '/exported', 'bob-key')).status, 200);
  });

  test('hide_groups_header: allowed, and no X-Consumer-Groups upstream, even a client-sent one', async () => {
    const res = await call(ctx.gw, '/hidden', 'bob-key', { 'x-consumer-groups': 'admin' });
    assert.equal(res.status, 200);
    assert.equal(res.body.headers['x-consumer-groups'], undefined);
  });

  test('acl without any auth plugin: 401 (no consumer to judge)', async () => {
    const res = await call(ctx.gw, '/acl-only', 'bob-key');
    assert.equal(res.status, 401);
    assert.equal(res.body.message, 'Unauthorized');
  });

  test('the anonymous consumer is judged by its own groups', async () => {
    const guest = await call(ctx.gw, '/guests');
    assert.equal(guest.status, 200);
    assert.equal(guest.body.headers['x-consumer-username'], 'guest');
    assert.equal(guest.body.headers['x-anonymous-consumer'], 'true');
    assert.equal(guest.body.headers['x-consumer-groups'], 'guests');
    const member = await call(ctx.gw, '/members', 'bob-key');
    assert.equal(member.status, 200);
    assert.equal(member.body.headers['x-consumer-groups'], 'dev');
    const anonymous = await call(ctx.gw, '/members');
    assert.equal(anonymous.status, 403);
    assert.equal(anonymous.body.message, FORBIDDEN);
  });
});

describe('acl config errors', () => {
  test('both allow and deny, or neither, refuse to load', async () => {
    const cases: [string, RegExp][] = [
      ['{ allow: [a], deny: [b] }', /plugins\[0\]\.config \(plugin "acl"\): only one of these fields must be non-empty: 'config\.allow', 'config\.deny'/],
      ['{ hide_groups_header: true }', /at least one of these fields must be non-empty: 'config\.allow', 'config\.deny'/],
    ];
    for (const [conf, message] of cases) {
      await assert.rejects(startGateway(`
_format_version: "3.0"
plugins:
  - name: acl
    config: ${conf}
`), message);
    }
  });
});
