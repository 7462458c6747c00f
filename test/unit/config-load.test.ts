import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { withTestPems } from '../helpers/pem-fixtures.ts';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { formatConfigError, loadDeclarativeFile } from '../../src/config/load.ts';
import type { Snapshot } from '../../src/config/types.ts';
import { routeWith, serviceWith } from '../helpers/entities.ts';
import { errorsOf, load, snapshot, testRegistry } from './config-test-registry.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'config');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function fixture(kind: 'valid' | 'invalid', name: string): string {
  return withTestPems(readFileSync(join(FIXTURES, kind, name), 'utf8'));
}

function byName<T extends { name?: string }>(items: Iterable<T>, name: string): T {
  const found = [...items].find((i) => i.name === name);
  assert.ok(found, `no entity named ${name}`);
  return found;
}

describe('declarative fixtures', () => {
  const valid = readdirSync(join(FIXTURES, 'valid')).sort();
  const invalid = readdirSync(join(FIXTURES, 'invalid')).sort();

  it('has at least 14 of each kind', () => {
    assert.ok(valid.length >= 14, `${valid.length} valid fixtures`);
    assert.ok(invalid.length >= 14, `${invalid.length} invalid fixtures`);
  });

  for (const name of valid) {
    it(`loads valid/${name}`, () => {
      const result = load(fixture('valid', name), name);
      if (!result.ok) assert.fail(result.errors.map(formatConfigError).join('\n'));
      assert.match(result.summary, new RegExp(`^${name.replace(/\./g, '\\.')}: \\d+ services, \\d+ routes, \\d+ consumers, \\d+ plugins, \\d+ upstreams, \\d+ certificates`));
    });
  }

  for (const name of invalid) {
    it(`rejects invalid/${name} with the expected error and position`, () => {
      const text = fixture('invalid', name);
      const expect = /^# expect: (.*) @ (\d+):(\d+)$/m.exec(text.split('\n')[0] ?? '');
      assert.ok(expect, `${name}: first line must be '# expect: <substring> @ <line>:<column>'`);
      const [, substring = '', line, column] = expect;
      const result = load(text, name);
      assert.equal(result.ok, false);
      if (result.ok) return;
      const hit = result.errors.find((e) => formatConfigError(e).includes(substring));
      assert.ok(hit, `${name}: no error contains "${substring}":\n${result.errors.map(formatConfigError).join('\n')}`);
      assert.deepEqual([hit.line, hit.column], [Number(line), Number(column)], formatConfigError(hit));
      assert.equal(hit.file, name);
    });
  }
});

describe('defaults', () => {
  const s = snapshot(fixture('valid', '01-minimal.yml'));

  it("applies Kong's service defaults", () => {
    const service = byName(s.services.values(), 'example-service');
    assert.deepEqual(
      { ...service, id: undefined },
      {
        id: undefined,
        name: 'example-service',
        protocol: 'http',
        host: 'example.internal',
        port: 80,
        retries: 5,
        connect_timeout: 60000,
        write_timeout: 60000,
        read_timeout: 60000,
        enabled: true,
        tags: [],
      },
    );
    // The expected defaults stay spelled out above, not built, or this would check the loader
    // against the builder; comparing the two keeps the hand-built entities of unit tests and
    // benchmarks (test/helpers/entities.ts) in step with the loader.
    assert.deepEqual(service, serviceWith({ id: service.id, name: 'example-service', host: 'example.internal' }));
  });

  it("applies Kong's route defaults and links the nested route to its service", () => {
    const route = byName(s.routes, 'example-route');
    const service = byName(s.services.values(), 'example-service');
    assert.equal(route.service, service.id);
    assert.deepEqual(route.protocols, ['http', 'https']);
    assert.equal(route.strip_path, true);
    assert.equal(route.preserve_host, false);
    assert.equal(route.regex_priority, 0);
    assert.equal(route.path_handling, 'v0');
    assert.equal(route.https_redirect_status_code, 426);
    assert.equal(route.request_buffering, true);
    assert.equal(route.response_buffering, true);
    assert.equal(route.created_at, 0);
    assert.deepEqual(route, routeWith({ id: route.id, name: 'example-route', service: service.id, paths: ['/mock'], created_at: 0 }));
  });

  it('applies upstream, health-check and target defaults', () => {
    const up = snapshot(fixture('valid', '09-upstream-healthchecks.yml'));
    const simple = up.upstreams.get('simple.upstream');
    assert.ok(simple);
    assert.equal(simple.algorithm, 'round-robin');
    assert.equal(simple.hash_on, 'none');
    assert.equal(simple.hash_fallback, 'none');
    assert.equal(simple.slots, 10000);
    assert.equal(simple.hash_on_cookie_path, '/');
    assert.equal(simple.healthchecks.threshold, 0);
    assert.deepEqual(simple.healthchecks.active.healthy, { interval: 0, http_statuses: [200, 302], successes: 0 });
    assert.deepEqual(simple.healthchecks.active.unhealthy.http_statuses, [429, 404, 500, 501, 502, 503, 504, 505]);
    assert.equal(simple.healthchecks.active.timeout, 1);
    assert.equal(simple.healthchecks.active.concurrency, 10);
    assert.equal(simple.healthchecks.active.http_path, '/');
    assert.deepEqual(simple.healthchecks.passive.unhealthy, { http_statuses: [429, 500, 503], tcp_failures: 0, timeouts: 0, http_failures: 0 });
    assert.ok(simple.healthchecks.passive.healthy.http_statuses.includes(226));
    assert.deepEqual(
      simple.targets.map((t) => [t.target, t.weight]),
      [['backend.internal:7000', 100], ['backend2.internal:8000', 0]],
    );

    const orders = up.upstreams.get('orders.upstream');
    assert.ok(orders);
    assert.equal(orders.healthchecks.active.http_path, '/health');
    assert.equal(orders.healthchecks.active.healthy.successes, 2);
    assert.equal(orders.healthchecks.active.unhealthy.http_failures, 3);
    assert.equal(orders.healthchecks.active.unhealthy.tcp_failures, 0, 'unset fields keep their defaults');
    assert.deepEqual(orders.targets.map((t) => t.target), ['10.0.0.11:8080', '10.0.0.12:8000', '[::1]:9000']);
    assert.ok(orders.targets.every((t) => t.upstream === orders.id));
  });

  it("applies plugin defaults and the plugin schema's config defaults", () => {
    const p = snapshot(fixture('valid', '03-nested-plugins.yml'));
    const keyAuth = p.plugins.find((x) => x.name === 'key-auth');
    assert.ok(keyAuth);
    assert.deepEqual(keyAuth.config, {
      key_names: ['apikey', 'x-api-key'],
      hide_credentials: false,
      key_in_header: true,
      key_in_query: true,
      key_in_body: false,
      run_on_preflight: true,
    });
    assert.deepEqual(keyAuth.protocols, ['grpc', 'grpcs', 'http', 'https']);
    assert.equal(keyAuth.enabled, true);
    const cors = p.plugins.find((x) => x.name === 'cors');
    assert.ok(cors);
    assert.equal(cors.route ?? cors.service ?? cors.consumer, undefined, 'top-level plugin without refs is global');
    const serviceLimit = p.plugins.find((x) => x.name === 'rate-limiting' && x.service !== undefined);
    assert.deepEqual(serviceLimit?.config, {
      minute: 100,
      policy: 'local',
      limit_by: 'consumer',
      fault_tolerant: true,
      hide_client_headers: false,
      error_code: 429,
      error_message: 'API rate limit exceeded',
      sync_rate: -1,
      window_type: 'fixed',
    });
    assert.deepEqual(p.plugins.map((x) => x.name), ['rate-limiting', 'key-auth', 'rate-limiting', 'cors'], 'file order');
  });
});

describe('service url shorthand', () => {
  const s = snapshot(fixture('valid', '02-url-shorthand.yml'));

  it('splits url into protocol, host, port and path', () => {
    const secure = byName(s.services.values(), 'secure');
    assert.deepEqual([secure.protocol, secure.host, secure.port, secure.path], ['https', 'api.example.com', 443, '/v1']);
    assert.equal(secure.tls_verify, true);
    assert.equal(secure.retries, 3);
    assert.equal(secure.read_timeout, 3600000);
    const plain = byName(s.services.values(), 'plain');
    assert.deepEqual([plain.protocol, plain.host, plain.port, plain.path], ['http', 'httpbin.internal', 80, undefined]);
    const explicit = byName(s.services.values(), 'explicit-port');
    assert.deepEqual([explicit.host, explicit.port, explicit.path], ['10.0.0.5', 9000, '/']);
    const v6 = byName(s.services.values(), 'ipv6');
    assert.deepEqual([v6.host, v6.port, v6.path, v6.enabled], ['::1', 8080, '/base', false]);
  });

  it('rejects a url with an unknown scheme', () => {
    const errors = errorsOf('_format_version: "3.0"\nservices:\n- name: s\n  url: ftp://x\n');
    assert.match(errors[0] ?? '', /kong\.yml:4:8: services\[0\]\.url \(service "s"\): invalid url "ftp:\/\/x": unsupported protocol 'ftp'/);
  });
});

describe('ids', () => {
  it('derives stable UUIDv5 ids from entity keys, identical across loads', () => {
    const text = fixture('valid', '08-plugin-two-fks.yml');
    const a = snapshot(text);
    const b = snapshot(text);
    const ids = (s: Snapshot) => [
      ...s.services.keys(),
      ...s.routes.map((r) => r.id),
      ...s.consumers.keys(),
      ...s.plugins.map((p) => p.id),
      ...[...s.credentials.values()].flat().map((c) => c.id),
    ];
    assert.deepEqual(ids(a), ids(b));
    for (const id of ids(a)) {
      assert.match(id, UUID);
      assert.equal(id[14], '5', 'version 5');
    }
    assert.equal(new Set(ids(a)).size, ids(a).length, 'ids are distinct');
  });

  it('keeps nameless routes stable too', () => {
    const text = '_format_version: "3.0"\nroutes:\n- paths: [/a]\n- paths: [/a]\n- paths: [/b]\n';
    const a = snapshot(text).routes.map((r) => r.id);
    assert.deepEqual(snapshot(text).routes.map((r) => r.id), a);
    assert.equal(new Set(a).size, 3, 'identical nameless routes still get distinct ids');
  });

  it('keeps explicit ids (lower-cased) and rejects duplicates', () => {
    const s = snapshot(fixture('valid', '05-references-by-id.yml'));
    assert.ok(s.services.has('3c0c3b0c-9c4a-4f8e-9d5f-6a2b7c8d9e01'));
    const errors = errorsOf(
      '_format_version: "3.0"\nservices:\n- id: 3C0C3B0C-9C4A-4F8E-9D5F-6A2B7C8D9E01\n  host: a\n- id: 3c0c3b0c-9c4a-4f8e-9d5f-6a2b7c8d9e01\n  host: b\n',
    );
    assert.match(errors.join('\n'), /kong\.yml:5:7: services\[1\]\.id: uniqueness violation: duplicate 'services' entity with id "3c0c3b0c-9c4a-4f8e-9d5f-6a2b7c8d9e01" \(first declared at services\[0\]\)/);
  });
});

describe('references', () => {
  it('resolves routes, plugins and credentials by id, by {id} and by name', () => {
    const s = snapshot(fixture('valid', '05-references-by-id.yml'));
    const serviceId = '3c0c3b0c-9c4a-4f8e-9d5f-6a2b7c8d9e01';
    assert.deepEqual(s.routes.map((r) => r.service), [serviceId, serviceId]);
    const [plugin] = s.plugins;
    assert.equal(plugin?.route, '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a');
    assert.equal(plugin?.consumer, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
    assert.equal(s.credentials.get('keyauth_credentials')?.[0]?.consumer, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
  });

  it('binds a top-level plugin to two or three parents by name', () => {
    const s = snapshot(fixture('valid', '08-plugin-two-fks.yml'));
    const route = byName(s.routes, 'events-sse');
    const service = byName(s.services.values(), 'events');
    const alice = [...s.consumers.values()].find((c) => c.username === 'alice');
    const scopes = s.plugins.filter((p) => p.name === 'rate-limiting').map((p) => [p.route, p.service, p.consumer]);
    assert.deepEqual(scopes, [
      [route.id, undefined, alice?.id],
      [undefined, service.id, alice?.id],
      [route.id, service.id, alice?.id],
    ]);
  });

  it('resolves top-level credentials and targets by name', () => {
    const s = snapshot(fixture('valid', '07-top-level-credentials.yml'));
    const bob = [...s.consumers.values()].find((c) => c.username === 'bob');
    assert.equal(s.credentials.get('keyauth_credentials')?.[0]?.consumer, bob?.id);
    assert.deepEqual(s.credentials.get('acls')?.map((a) => a.group), ['readers', 'readers']);
  });

  it('links SNIs to certificates, nested and by id', () => {
    const s = snapshot(fixture('valid', '10-certificates-snis.yml'));
    assert.deepEqual(s.snis.map((x) => x.name).sort(), ['*.example.com', 'example.com', 'other.com']);
    const other = s.snis.find((x) => x.name === 'other.com');
    assert.equal(other?.certificate, '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a');
    assert.deepEqual(s.certificates.get('9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a')?.snis, ['other.com']);
    const primary = [...s.certificates.values()].find((c) => c.tags.includes('primary'));
    assert.deepEqual(primary?.snis, ['example.com', '*.example.com']);
    assert.ok(primary?.cert_alt?.includes('BEGIN CERTIFICATE'));
  });
});

describe('credentials', () => {
  it('hashes basic-auth passwords as Kong does unless _transform is false', () => {
    const s = snapshot(fixture('valid', '06-consumers-nested-credentials.yml'));
    const alice = [...s.consumers.values()].find((c) => c.username === 'alice');
    assert.ok(alice);
    const [basic] = s.credentials.get('basicauth_credentials') ?? [];
    assert.equal(basic?.password, createHash('sha1').update(`s3cret${alice.id}`).digest('hex'));
    const raw = snapshot(fixture('valid', '15-comments-transform.yml'));
    assert.equal(raw.credentials.get('basicauth_credentials')?.[0]?.password, '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8');
  });

  it('generates missing keys and secrets, and rejects duplicate keys', () => {
    const s = snapshot(fixture('valid', '06-consumers-nested-credentials.yml'));
    const keys = s.credentials.get('keyauth_credentials') ?? [];
    assert.equal(keys.length, 3);
    assert.match(String(keys[2]?.key), /^[0-9a-f]{32}$/);
    assert.equal(s.credentials.get('jwt_secrets')?.[0]?.algorithm, 'HS256');
    const errors = errorsOf(
      '_format_version: "3.0"\nconsumers:\n- username: a\n  keyauth_credentials: [{key: k1}]\n- username: b\n  keyauth_credentials: [{key: k1}]\n',
    );
    assert.match(errors.join('\n'), /kong\.yml:6:31: consumers\[1\]\.keyauth_credentials\[0\]\.key: uniqueness violation: duplicate 'keyauth_credentials' entity with key "k1"/);
  });

  it('requires username or custom_id on a consumer', () => {
    const errors = errorsOf('_format_version: "3.0"\nconsumers:\n- tags: [x]\n');
    assert.match(errors[0] ?? '', /at least one of these fields must be non-empty: 'custom_id', 'username'/);
  });
});

describe('routes', () => {
  it('keeps regex paths, rewriting PCRE named groups for JS', () => {
    const s = snapshot(fixture('valid', '11-regex-paths.yml'));
    assert.deepEqual(byName(s.routes, 'item').paths, ['~/items/(?<id>\\d+)$', '~/items/(?<slug>[a-z-]+)/reviews$']);
    assert.equal(byName(s.routes, 'item').regex_priority, 10);
  });

  it('migrates _format_version 2.1 regex paths to the ~ form', () => {
    const s = snapshot(fixture('valid', '18-format-2-1.yml'));
    assert.deepEqual(byName(s.routes, 'legacy-regex').paths, ['~/legacy/\\d+$']);
    assert.deepEqual(byName(s.routes, 'legacy-prefix').paths, ['/legacy']);
  });

  it('lower-cases header names and defaults gRPC routes to strip_path false', () => {
    const s = snapshot(fixture('valid', '13-headers-routing.yml'));
    assert.deepEqual(byName(s.routes, 'v2-by-header').headers, { 'x-version': ['2', '2.0'], 'x-tenant': ['acme'] });
    const m = snapshot(fixture('valid', '14-methods.yml'));
    assert.equal(byName(m.routes, 'grpc-route').strip_path, false);
  });

  it('numbers routes in file order across nested and top-level forms', () => {
    const s = snapshot('_format_version: "3.0"\nroutes:\n- name: first\n  paths: [/1]\nservices:\n- host: x\n  routes:\n  - name: second\n    paths: [/2]\n');
    assert.deepEqual(s.routes.map((r) => [r.name, r.created_at]), [['first', 0], ['second', 1]]);
  });

  it('rejects misplaced wildcards, bad methods and non-normalized paths', () => {
    const errors = errorsOf(
      '_format_version: "3.0"\nroutes:\n- hosts: ["a.*.com"]\n  methods: [get]\n  paths: ["/a/../b", "/ok"]\n',
    ).join('\n');
    assert.match(errors, /routes\[0\]\.hosts\[0\]: invalid wildcard: must be placed at leftmost or rightmost label/);
    assert.match(errors, /routes\[0\]\.methods\[0\]: invalid method "get": must be upper-case/);
    assert.match(errors, /routes\[0\]\.paths\[0\]: invalid path "\/a\/..\/b": not normalized/);
  });
});

describe('errors', () => {
  it('collects every error in one pass, in file order', () => {
    const errors = errorsOf(`_format_version: "3.0"
services:
- name: a
  host: a.internal
  port: 99999
  routes:
  - name: r1
    paths: ["~(broken"]
    colour: blue
  - name: r1
    paths: [/dup]
plugins:
- name: nope
- name: rate-limiting
  route: missing-route
  config: { minute: -1 }
`);
    assert.deepEqual(
      errors.map((e) => e.split(': ')[0]),
      ['kong.yml:5:9', 'kong.yml:8:13', 'kong.yml:9:5', 'kong.yml:10:11', 'kong.yml:13:9', 'kong.yml:15:10', 'kong.yml:16:21'],
      errors.join('\n'),
    );
  });

  it('formats errors as file:line:column: path (entity): message', () => {
    assert.equal(
      formatConfigError({ file: 'kong.yml', line: 12, column: 9, entityPath: 'services[0].routes[1].paths[0]', entity: 'route "orders"', message: 'invalid regex' }),
      'kong.yml:12:9: services[0].routes[1].paths[0] (route "orders"): invalid regex',
    );
    assert.equal(formatConfigError({ file: 'k.yml', line: 1, column: 1, entityPath: '', message: 'empty' }), 'k.yml:1:1: empty');
  });

  it('rejects a document that is not a mapping', () => {
    assert.match(errorsOf('- a\n- b\n')[0] ?? '', /kong\.yml:1:1: expected a mapping with '_format_version' at the top level, got a list/);
    assert.match(errorsOf('')[0] ?? '', /got an empty document/);
  });

  it('reports a YAML duplicate key at its position', () => {
    assert.match(errorsOf('_format_version: "3.0"\nservices: []\nservices: []\n')[0] ?? '', /kong\.yml:3:1: invalid YAML: Map keys must be unique/);
  });

  it('reports an unreadable file', async () => {
    const result = await loadDeclarativeFile('/nonexistent/kong.yml', { registry: testRegistry() });
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(formatConfigError(result.errors[0]!), /^\/nonexistent\/kong\.yml:1:1: cannot read declarative config: ENOENT/);
  });
});

describe('snapshot', () => {
  it('hashes the canonical input: key order does not matter, content does', () => {
    const a = snapshot('_format_version: "3.0"\nservices:\n- name: s\n  host: h\n');
    const b = snapshot('{"services": [{"host": "h", "name": "s"}], "_format_version": "3.0"}');
    const c = snapshot('_format_version: "3.0"\nservices:\n- name: s\n  host: h2\n');
    assert.match(a.hash, /^[0-9a-f]{32}$/);
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, c.hash);
  });

  it('keeps channels as raw records without _comment', () => {
    const s = snapshot(fixture('valid', '17-channels.yml'));
    assert.deepEqual(s.channels[0], { name: 'chat', match: 'chat:*', message_buffer_length: 100, message_timeout: 3600, tags: [] });
    const subscriber = s.plugins.find((p) => p.name === 'pubsub-subscriber');
    assert.deepEqual(subscriber?.ordering, { after: { access: ['jwt'] } });
  });

  it('loads JSON files', async () => {
    const result = await loadDeclarativeFile(join(FIXTURES, 'valid', '16-json-config.json'), { registry: testRegistry() });
    assert.equal(result.ok, true);
    if (result.ok) assert.equal(result.snapshot.plugins[0]?.route, byName(result.snapshot.routes, 'json-route').id);
  });
});
