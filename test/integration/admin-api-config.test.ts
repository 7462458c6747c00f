import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { FormData, request } from 'undici';
import { definePlugin } from '../../src/plugins/contract.ts';
import { createBundledRegistry } from '../../src/plugins/registry.ts';
import { admin } from '../helpers/admin.ts';
import { startGateway, useEchoGateway } from '../helpers/gateway.ts';

const yaml = (url: string, path: string) => `_format_version: "3.0"
services:
- name: app
  url: ${url}
  routes:
  - name: main
    paths: [${path}]
`;

type Body = Record<string, unknown>;

describe('Admin API: POST /config', () => {
  const ctx = useEchoGateway((url) => yaml(url, '/v1'));
  const proxyStatus = async (path: string) => {
    const res = await request(`${ctx.gw.proxyUrl}${path}`);
    await res.body.dump();
    return res.statusCode;
  };
  const hash = () => ctx.gw.gateway.current.snapshot.hash;

  test('a YAML body replaces the config: 201 with the entities, the proxy routes by it at once', async () => {
    const { status, body } = await admin<Record<string, Record<string, Body>>>(ctx.gw.adminUrl, '/config', {
      body: yaml(ctx.echo.url, '/v2'),
      contentType: 'application/x-yaml',
    });
    assert.equal(status, 201);
    const routes = Object.values(body.routes ?? {});
    assert.deepEqual(routes.map((r) => r.paths), [['/v2']]);
    assert.equal(Object.values(body.services ?? {})[0]?.name, 'app');
    assert.equal(await proxyStatus('/v2'), 200);
    assert.equal(await proxyStatus('/v1'), 404);
    const listed = await admin<{ data: Body[] }>(ctx.gw.adminUrl, '/routes');
    assert.deepEqual(listed.body.data.map((r) => r.paths), [['/v2']]);
    const status1 = await admin(ctx.gw.adminUrl, '/status');
    assert.equal(status1.body.configuration_hash, hash());
  });

  test('the config as a JSON object, as a JSON `config` string, as a form field and as a multipart file', async () => {
    const asObject = { _format_version: '3.0', services: [{ name: 'app', url: ctx.echo.url, routes: [{ paths: ['/json'] }] }] };
    assert.equal((await admin(ctx.gw.adminUrl, '/config', { body: asObject })).status, 201);
    assert.equal(await proxyStatus('/json'), 200);

    assert.equal((await admin(ctx.gw.adminUrl, '/config', { body: { config: yaml(ctx.echo.url, '/string') } })).status, 201);
    assert.equal(await proxyStatus('/string'), 200);

    const form = new URLSearchParams({ config: yaml(ctx.echo.url, '/form') }).toString();
    assert.equal((await admin(ctx.gw.adminUrl, '/config', { body: form, contentType: 'application/x-www-form-urlencoded' })).status, 201);
    assert.equal(await proxyStatus('/form'), 200);

    const multipart = new FormData();
    multipart.set('config', new Blob([yaml(ctx.echo.url, '/multipart')]), 'kong.yml');
    const res = await request(`${ctx.gw.adminUrl}/config`, { method: 'POST', body: multipart });
    await res.body.dump();
    assert.equal(res.statusCode, 201);
    assert.equal(await proxyStatus('/multipart'), 200);
  });

  test('check_hash=1 answers 304 and reloads nothing when the config is unchanged', async () => {
    const text = yaml(ctx.echo.url, '/hashed');
    assert.equal((await admin(ctx.gw.adminUrl, '/config?check_hash=1', { body: text, contentType: 'text/yaml' })).status, 201);
    const state = ctx.gw.gateway.current;
    const same = await admin(ctx.gw.adminUrl, '/config?check_hash=1', { body: text, contentType: 'text/yaml' });
    assert.equal(same.status, 304);
    assert.equal(same.body, undefined);
    assert.equal(ctx.gw.gateway.current, state, 'the runtime state was not rebuilt');
    const changed = await admin(ctx.gw.adminUrl, '/config?check_hash=1', { body: yaml(ctx.echo.url, '/changed'), contentType: 'text/yaml' });
    assert.equal(changed.status, 201);
    assert.equal(await proxyStatus('/changed'), 200);
  });

  test('an invalid config is Kong\'s code 14 with fields; the running config stays', async () => {
    assert.equal((await admin(ctx.gw.adminUrl, '/config', { body: yaml(ctx.echo.url, '/kept'), contentType: 'text/yaml' })).status, 201);
    const before = hash();
    const bad = `_format_version: "3.0"\nservices:\n- name: app\n  url: ${ctx.echo.url}\n  retries: many\n  colour: blue\n  routes:\n  - name: r\n    paths: [/new]\n    plugins:\n    - name: no-such-plugin\n`;
    const { status, body } = await admin(ctx.gw.adminUrl, '/config', { body: bad, contentType: 'text/yaml' });
    assert.equal(status, 400);
    assert.equal(body.code, 14);
    assert.equal(body.name, 'invalid declarative configuration');
    assert.match(String(body.message), /^declarative config is invalid: config:5:\d+: services\[0\]\.retries/);
    const services = (body.fields as { services: Body[] }).services;
    assert.match(String(services[0]!.retries), /integer/);
    assert.equal(services[0]!.colour, "unknown field 'colour'");
    const plugin = ((services[0]!.routes as Body[])[0]!.plugins as Body[])[0]!;
    assert.match(JSON.stringify(plugin), /no-such-plugin/);
    assert.equal(hash(), before);
    assert.equal(await proxyStatus('/kept'), 200);
    assert.equal(await proxyStatus('/new'), 404);
  });

  test('flatten_errors=1 lists the errors per entity, as Kong\'s flattened_errors', async () => {
    const bad = `_format_version: "3.0"\nservices:\n- name: good\n  url: ${ctx.echo.url}\n- name: broken\n  tags: [t1]\n  host: 127.0.0.1\n  port: 99999\n  routes:\n  - name: r1\n    paths: [/x]\n    protocols: [gopher]\n`;
    const { status, body } = await admin<Body & { flattened_errors: Body[] }>(ctx.gw.adminUrl, '/config?flatten_errors=1', { body: bad, contentType: 'text/yaml' });
    assert.equal(status, 400);
    assert.equal(body.code, 14);
    assert.deepEqual(body.fields, {});
    const byName = new Map(body.flattened_errors.map((e) => [e.entity_name, e]));
    const service = byName.get('broken')!;
    assert.equal(service.entity_type, 'service');
    assert.deepEqual(service.entity_tags, ['t1']);
    assert.equal((service.entity as Body).port, 99999);
    assert.equal((service.entity as Body).routes, undefined, 'nested children are entities of their own');
    assert.deepEqual((service.errors as Body[]).map((e) => [e.type, e.field]), [['field', 'port']]);
    const route = byName.get('r1')!;
    assert.equal(route.entity_type, 'route');
    assert.equal((route.errors as Body[])[0]!.field, 'protocols.0');
    assert.equal(byName.has('good'), false);
  });

  test('broken YAML, a missing config and malformed JSON', async () => {
    const broken = await admin(ctx.gw.adminUrl, '/config', { body: '_format_version: "3.0"\nservices: [\n', contentType: 'text/yaml' });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.code, 14);
    assert.match(String(broken.body.message), /^failed parsing declarative configuration: /);
    const empty = await admin(ctx.gw.adminUrl, '/config', { method: 'POST' });
    assert.deepEqual([empty.status, empty.body], [400, { message: 'expected a declarative configuration' }]);
    for (const body of [{ hello: 'world' }, { config: 42 }, ['_format_version'], 'null']) {
      const noConfig = await admin(ctx.gw.adminUrl, '/config', { body, contentType: 'application/json' });
      assert.deepEqual([noConfig.status, noConfig.body], [400, { message: 'expected a declarative configuration' }], JSON.stringify(body));
    }
    const json = await admin(ctx.gw.adminUrl, '/config', { body: '{"_format_version": "3.0",', contentType: 'application/json' });
    assert.deepEqual([json.status, json.body], [400, { message: 'Cannot parse JSON body' }]);
  });
});

describe('Admin API: body size limit', () => {
  test('a body over admin_max_body_size is a 413, with or without Content-Length; the config stays', async () => {
    const gw = await startGateway(yaml('http://127.0.0.1:9', '/small'), { adminMaxBodySize: 4096 });
    try {
      const before = gw.gateway.current.snapshot.hash;
      const padding = `# ${'x'.repeat(8000)}\n`;
      const big = await admin(gw.adminUrl, '/config', { body: padding + yaml('http://127.0.0.1:9', '/big'), contentType: 'text/yaml' });
      assert.equal(big.status, 413);
      assert.match(String(big.body.message), /^Request size limit exceeded/);
      const chunked = await request(`${gw.adminUrl}/config`, {
        method: 'POST',
        headers: { 'content-type': 'text/yaml' },
        body: Readable.from([padding.slice(0, 3000), padding.slice(3000)]),
      });
      assert.equal(chunked.statusCode, 413);
      assert.match(String(((await chunked.body.json()) as Body).message), /^Request size limit exceeded/);
      assert.equal(gw.gateway.current.snapshot.hash, before);
      const small = await admin(gw.adminUrl, '/config', { body: yaml('http://127.0.0.1:9', '/fits'), contentType: 'text/yaml' });
      assert.equal(small.status, 201, 'the listener still serves after refusing');
    } finally {
      await gw.close();
    }
  });
});

/** Validates any config, but its compile step refuses `reject: true` (as a plugin may at reload). */
const picky = definePlugin<{ reject: boolean }, { reject: boolean }>({
  name: 'picky',
  schema: Type.Object({ reject: Type.Boolean({ default: false }) }, { additionalProperties: false }),
  handler: {
    PRIORITY: 1,
    VERSION: '1.0.0',
    compile(conf) {
      if (conf.reject) throw new Error('picky refuses this config');
      return conf;
    },
  },
});

describe('Admin API: a plugin refusing the new config', () => {
  test('is a 400 with its message, and the running config stays', async () => {
    const registry = createBundledRegistry();
    registry.register(picky);
    const gw = await startGateway(yaml('http://127.0.0.1:9', '/before'), { registry });
    try {
      const before = gw.gateway.current;
      const text = `${yaml('http://127.0.0.1:9', '/after')}plugins:\n- name: picky\n  config: {reject: true}\n`;
      const { status, body } = await admin(gw.adminUrl, '/config', { body: text, contentType: 'text/yaml' });
      assert.equal(status, 400);
      assert.equal(body.code, 14);
      assert.match(String(body.message), /picky refuses this config/);
      assert.equal(gw.gateway.current, before);
    } finally {
      await gw.close();
    }
  });
});
