import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { admin, type PageBody } from '../helpers/admin.ts';
import { useEchoGateway, startGateway } from '../helpers/gateway.ts';
import { withTestPems } from '../helpers/pem-fixtures.ts';

type Entity = Record<string, unknown> & { id: string };

const config = (url: string) => `_format_version: "3.0"
services:
- name: orders
  url: ${url}/orders
  tags: [team-a, prod]
  routes:
  - name: orders-route
    paths: [/orders]
    plugins:
    - name: cors
  plugins:
  - name: correlation-id
- name: users
  id: 2f0c6a36-0b43-4c1c-9d50-7d7f5ad9a001
  url: ${url}/users
  tags: [team-b, prod]
  routes:
  - name: users-route
    paths: [/users]
- name: billing
  url: ${url}/billing
  tags: [team-a]
routes:
- name: floating
  paths: [/floating]
consumers:
- username: alice
  custom_id: A-1
  keyauth_credentials: [{key: alice-key}]
  basicauth_credentials: [{username: alice, password: secret}]
  jwt_secrets: [{key: alice-iss, secret: alice-secret}]
  acls: [{group: admins}]
- username: bob
  acls: [{group: users}]
upstreams:
- name: pool
  targets: [{target: "10.0.0.1:80", weight: 50}, {target: "10.0.0.2:80"}]
`;

describe('Admin API: reading entities', () => {
  const ctx = useEchoGateway(config);
  const get = <T = Entity>(path: string) => admin<T>(ctx.gw.adminUrl, path);

  test('GET /services lists services in file order in Kong\'s shape and envelope', async () => {
    const { status, body } = await get<PageBody<Entity>>('/services');
    assert.equal(status, 200);
    assert.deepEqual(body.data.map((s) => s.name), ['orders', 'users', 'billing']);
    assert.equal(body.next, null);
    const orders = body.data[0]!;
    assert.equal(orders.host, '127.0.0.1');
    assert.equal(orders.path, '/orders');
    assert.equal(orders.protocol, 'http');
    assert.equal(orders.retries, 5);
    assert.equal(orders.client_certificate, null, 'unset optional fields are null');
    assert.deepEqual(orders.tags, ['team-a', 'prod']);
    assert.ok(Number.isInteger(orders.created_at) && (orders.created_at as number) > 1_600_000_000, 'created_at in seconds');
    assert.equal(orders.url, undefined, 'url is write-only');
  });

  test('single entities by id or by endpoint key; unknown ones are Kong\'s 404', async () => {
    const byName = await get('/services/users');
    assert.equal(byName.body.id, '2f0c6a36-0b43-4c1c-9d50-7d7f5ad9a001');
    const byId = await get('/services/2f0c6a36-0b43-4c1c-9d50-7d7f5ad9a001');
    assert.equal(byId.body.name, 'users');
    assert.equal((await get('/consumers/alice')).body.custom_id, 'A-1');
    assert.equal((await get('/upstreams/pool')).body.algorithm, 'round-robin');
    for (const path of ['/services/nope', '/routes/00000000-0000-4000-8000-000000000000', '/consumers/carol', '/certificates/x']) {
      const missing = await get(path);
      assert.equal(missing.status, 404, path);
      assert.deepEqual(missing.body, { message: 'Not found' }, path);
    }
  });

  test('routes and plugins show foreign keys as {id} and null when unset', async () => {
    const routes = (await get<PageBody<Entity>>('/routes')).body.data;
    const orders = (await get('/services/orders')).body;
    assert.deepEqual(routes.map((r) => r.name), ['orders-route', 'users-route', 'floating']);
    assert.deepEqual(routes[0]!.service, { id: orders.id });
    assert.equal(routes[2]!.service, null);
    assert.deepEqual(routes[0]!.paths, ['/orders']);
    assert.equal(routes[0]!.methods, null);
    const plugins = (await get<PageBody<Entity>>('/plugins')).body.data;
    const cors = plugins.find((p) => p.name === 'cors')!;
    assert.deepEqual(cors.route, { id: routes[0]!.id });
    assert.equal(cors.service, null);
    assert.equal(typeof (cors.config as Record<string, unknown>).credentials, 'boolean', 'config with defaults applied');
  });

  test('nested forms: a parent\'s children, by name or id of the parent', async () => {
    const orders = (await get('/services/orders')).body;
    const routes = await get<PageBody<Entity>>(`/services/${orders.id}/routes`);
    assert.deepEqual(routes.body.data.map((r) => r.name), ['orders-route']);
    assert.deepEqual((await get<PageBody<Entity>>('/services/orders/plugins')).body.data.map((p) => p.name), ['correlation-id']);
    assert.deepEqual((await get<PageBody<Entity>>('/routes/orders-route/plugins')).body.data.map((p) => p.name), ['cors']);
    assert.equal((await get('/routes/orders-route/service')).body.name, 'orders');
    assert.equal((await get('/services/orders/routes/orders-route')).body.name, 'orders-route');
    assert.equal((await get('/services/users/routes/orders-route')).status, 404, 'a child of another parent');
    assert.equal((await get('/services/nope/routes')).status, 404);
    assert.equal((await get('/routes/floating/service')).status, 404, 'no service to show');
    const targets = await get<PageBody<Entity>>('/upstreams/pool/targets');
    assert.deepEqual(targets.body.data.map((t) => [t.target, t.weight]), [['10.0.0.1:80', 50], ['10.0.0.2:80', 100]]);
    assert.equal((await get('/upstreams/pool/targets/10.0.0.2:80')).body.weight, 100);
  });

  test('credentials, globally and under their consumer, with secrets as DB-less Kong shows them', async () => {
    const alice = (await get('/consumers/alice')).body;
    const keys = (await get<PageBody<Entity>>('/consumers/alice/key-auth')).body.data;
    assert.deepEqual(keys.map((k) => [k.key, k.consumer]), [['alice-key', { id: alice.id }]]);
    assert.equal((await get('/key-auths/alice-key')).body.id, keys[0]!.id);
    assert.equal((await get('/key-auths/alice-key/consumer')).body.username, 'alice');
    const basic = (await get<PageBody<Entity>>('/consumers/alice/basic-auth')).body.data[0]!;
    assert.equal(basic.username, 'alice');
    assert.match(String(basic.password), /^[0-9a-f]{40}$/, 'the stored SHA-1 hash, never the password');
    const jwt = (await get<PageBody<Entity>>('/consumers/alice/jwt')).body.data[0]!;
    assert.deepEqual([jwt.key, jwt.secret, jwt.algorithm], ['alice-iss', 'alice-secret', 'HS256']);
    assert.deepEqual((await get<PageBody<Entity>>('/acls')).body.data.map((a) => a.group), ['admins', 'users']);
    assert.deepEqual((await get<PageBody<Entity>>('/consumers/bob/acls')).body.data.map((a) => a.group), ['users']);
    assert.equal((await get<PageBody<Entity>>('/jwts')).body.data.length, 1);
    assert.equal((await get<PageBody<Entity>>('/basic-auths')).body.data.length, 1);
  });

  test('GET /targets, /ca_certificates and /plugins/enabled', async () => {
    assert.equal((await get<PageBody<Entity>>('/targets')).body.data.length, 2);
    assert.deepEqual((await get('/ca_certificates')).body, { data: [], next: null });
    const enabled = (await get<{ enabled_plugins: string[] }>('/plugins/enabled')).body.enabled_plugins;
    assert.ok(enabled.includes('key-auth') && enabled.includes('pubsub-subscriber'));
  });

  test('GET / keeps its node info and lists the plugins; GET /endpoints lists the routes', async () => {
    const root = (await get('/')).body;
    assert.equal(root.tagline, 'Welcome to sluice');
    assert.equal(typeof root.node_id, 'string');
    const plugins = root.plugins as { available_on_server: Record<string, unknown>; enabled_in_cluster: string[] };
    assert.deepEqual(plugins.enabled_in_cluster, ['correlation-id', 'cors']);
    assert.ok('jwt' in plugins.available_on_server);
    const endpoints = (await get<{ data: string[] }>('/endpoints')).body.data;
    for (const e of ['/services', '/services/{id}/routes', '/consumers/{id}/key-auth', '/config', '/schemas/plugins/{name}']) {
      assert.ok(endpoints.includes(e), e);
    }
  });
});

describe('Admin API: certificates and SNIs', () => {
  test('certificates list their SNI names; SNIs point at their certificate', async () => {
    const yaml = withTestPems(readFileSync(new URL('../fixtures/config/valid/10-certificates-snis.yml', import.meta.url), 'utf8'));
    const gw = await startGateway(yaml);
    try {
      const certs = (await admin<PageBody<Entity>>(gw.adminUrl, '/certificates')).body.data;
      assert.ok(certs.length >= 1);
      assert.match(String(certs[0]!.cert), /BEGIN CERTIFICATE/);
      assert.ok((certs[0]!.snis as string[]).includes('example.com'));
      const sni = (await admin(gw.adminUrl, '/snis/example.com')).body;
      assert.deepEqual(sni.certificate, { id: certs[0]!.id });
      assert.equal((await admin(gw.adminUrl, '/snis/example.com/certificate')).body.id, certs[0]!.id);
      const nested = (await admin<PageBody<Entity>>(gw.adminUrl, `/certificates/${certs[0]!.id}/snis`)).body.data;
      assert.ok(nested.some((s) => s.name === 'example.com'));
    } finally {
      await gw.close();
    }
  });
});
