import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { admin } from '../helpers/admin.ts';
import { useEchoGateway } from '../helpers/gateway.ts';
import { fromJsonSchema } from '../helpers/json-schema.ts';
import { createBundledRegistry } from '../../src/plugins/registry.ts';

type Body = Record<string, unknown>;

const ENTITIES = [
  'services', 'routes', 'consumers', 'plugins', 'upstreams', 'targets', 'certificates', 'snis',
  'keyauth_credentials', 'jwt_secrets', 'basicauth_credentials', 'hmacauth_credentials', 'acls', 'channels',
];

describe('Admin API: schemas', () => {
  const ctx = useEchoGateway((url) => `_format_version: "3.0"\nservices: [{name: s, url: "${url}"}]\n`);
  const compiled = async (path: string) => {
    const { status, body } = await admin(ctx.gw.adminUrl, path);
    assert.equal(status, 200, path);
    const schema = fromJsonSchema(body);
    return { schema, check: TypeCompiler.Compile(schema) };
  };

  test('every entity schema is JSON Schema that TypeBox compiles', async () => {
    for (const entity of ENTITIES) await compiled(`/schemas/${entity}`);
    const { check } = await compiled('/schemas/services');
    assert.ok(check.Check({ name: 'orders', url: 'http://orders.internal', routes: [{ paths: ['/orders'] }] }));
    assert.equal(check.Check({ name: 'orders', port: 'eighty' }), false);
    assert.equal(check.Check({ name: 'orders', colour: 'blue' }), false, 'unknown fields are refused');
  });

  test('every enabled plugin\'s schema is served with its config typed', async () => {
    for (const name of createBundledRegistry().names()) {
      const { body } = await admin(ctx.gw.adminUrl, `/schemas/plugins/${name}`);
      assert.equal(((body.properties as Body).name as Body).const, name);
      fromJsonSchema(body);
    }
    const { schema, check } = await compiled('/schemas/plugins/rate-limiting');
    const good = Value.Default(schema, { name: 'rate-limiting', config: { minute: 5 } });
    assert.ok(check.Check(good), JSON.stringify([...check.Errors(good)].map((e) => `${e.path} ${e.message}`)));
    assert.equal(check.Check(Value.Default(schema, { name: 'rate-limiting', config: { minute: 'lots' } })), false);
    assert.equal(check.Check(Value.Default(schema, { name: 'key-auth', config: {} })), false, 'another plugin\'s name');
  });

  test('unknown schemas are 404 with Kong\'s messages', async () => {
    const entity = await admin(ctx.gw.adminUrl, '/schemas/widgets');
    assert.deepEqual([entity.status, entity.body], [404, { message: "No entity named 'widgets'" }]);
    const plugin = await admin(ctx.gw.adminUrl, '/schemas/plugins/nope');
    assert.deepEqual([plugin.status, plugin.body], [404, { message: "No plugin named 'nope'" }]);
  });

  test('POST /schemas/plugins/validate checks a plugin entity without loading it', async () => {
    const ok = await admin(ctx.gw.adminUrl, '/schemas/plugins/validate', { body: { name: 'rate-limiting', config: { minute: 10 } } });
    assert.deepEqual([ok.status, ok.body], [200, { message: 'schema validation successful' }]);
    const bad = await admin(ctx.gw.adminUrl, '/schemas/plugins/validate', { body: { name: 'rate-limiting', config: { minute: 'x' } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 2);
    assert.equal(bad.body.name, 'schema violation');
    assert.ok(((bad.body.fields as Body).config as Body).minute, JSON.stringify(bad.body));
    const unknown = await admin(ctx.gw.adminUrl, '/schemas/plugins/validate', { body: { name: 'nope' } });
    assert.equal(unknown.status, 400);
    assert.match(String((unknown.body.fields as Body).name), /plugin 'nope' not enabled/);
    const notObject = await admin(ctx.gw.adminUrl, '/schemas/plugins/validate', { body: [1, 2] });
    assert.equal(notObject.status, 400);
    assert.equal(notObject.body.code, 2);
  });

  test('POST /schemas/{entity}/validate checks one entity', async () => {
    const ok = await admin(ctx.gw.adminUrl, '/schemas/routes/validate', { body: { name: 'r', paths: ['/x'] } });
    assert.equal(ok.status, 200);
    const bad = await admin(ctx.gw.adminUrl, '/schemas/services/validate', { body: { name: 's', port: 'x', extra: 1 } });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.message), /^2 schema violations \(/);
    assert.deepEqual(Object.keys(bad.body.fields as Body).sort(), ['extra', 'port']);
    assert.equal((await admin(ctx.gw.adminUrl, '/schemas/widgets/validate', { body: {} })).status, 404);
  });
});
