import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { admin, type PageBody } from '../helpers/admin.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

type Body = Record<string, unknown>;

const config = (url: string) => `_format_version: "3.0"
services:
- name: orders
  url: ${url}
  routes:
  - name: orders-route
    paths: [/orders]
consumers:
- username: alice
  keyauth_credentials: [{key: alice-key}]
`;

const unsupported = (message: string) => ({ code: 12, name: 'operation unsupported', message });

describe('Admin API: writes answer as DB-less Kong', () => {
  const ctx = useEchoGateway(config);
  const call = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown = {}) => admin(ctx.gw.adminUrl, path, { method, body });

  test('creating is 405 operation unsupported, naming the entity type', async () => {
    for (const [path, dao] of [['/services', 'services'], ['/routes', 'routes'], ['/plugins', 'plugins'], ['/consumers/alice/key-auth', 'keyauth_credentials'], ['/services/orders/routes', 'routes']]) {
      const { status, body } = await call('POST', path!, { name: 'x' });
      assert.equal(status, 405, path);
      assert.deepEqual(body, unsupported(`cannot create '${dao}' entities when not using a database`), path);
    }
  });

  test('update, upsert and delete say how the entity was named, as Kong\'s off strategy', async () => {
    const orders = (await admin<Body & { id: string }>(ctx.gw.adminUrl, '/services/orders')).body;
    const cases: [Parameters<typeof call>[0], string, string][] = [
      ['PATCH', '/services/orders', "cannot update 'services' entities by 'name' when not using a database"],
      ['PATCH', `/services/${orders.id}`, "cannot update 'services' entities when not using a database"],
      ['PUT', '/services/brand-new', "cannot create or update 'services' entities by 'name' when not using a database"],
      ['DELETE', '/services/orders', "cannot remove 'services' entities by 'name' when not using a database"],
      ['DELETE', '/consumers/alice', "cannot remove 'consumers' entities by 'username' when not using a database"],
      ['PATCH', '/services/orders/routes/orders-route', "cannot update 'routes' entities when not using a database"],
      ['PATCH', '/routes/orders-route/service', "cannot update 'services' entities when not using a database"],
    ];
    for (const [method, path, message] of cases) {
      const { status, body } = await call(method, path);
      assert.deepEqual([status, body], [405, unsupported(message)], `${method} ${path}`);
    }
    const listed = await admin<PageBody>(ctx.gw.adminUrl, '/services');
    assert.deepEqual(listed.body.data.map((s) => s.name), ['orders'], 'nothing changed');
  });

  test('changing what does not exist: 404; deleting it: 204 as Kong\'s DAO', async () => {
    assert.deepEqual(await statusAndBody(call('PATCH', '/services/nope')), [404, { message: 'Not found' }]);
    assert.deepEqual(await statusAndBody(call('POST', '/consumers/nobody/key-auth')), [404, { message: 'Not found' }]);
    assert.deepEqual(await statusAndBody(call('PATCH', '/services/orders/routes/other')), [404, { message: 'Not found' }]);
    const gone = await request(`${ctx.gw.adminUrl}/services/00000000-0000-4000-8000-000000000000`, { method: 'DELETE' });
    assert.equal(gone.statusCode, 204);
    assert.equal(await gone.body.text(), '');
    assert.deepEqual(await statusAndBody(call('DELETE', '/routes/orders-route/service')), [405, { message: 'Method not allowed' }]);
  });
});

async function statusAndBody(answer: Promise<{ status: number; body: unknown }>): Promise<[number, unknown]> {
  const { status, body } = await answer;
  return [status, body];
}

describe('Admin API: bad input', () => {
  const ctx = useEchoGateway(config);

  test('unknown paths are Kong\'s 404, whatever the method', async () => {
    for (const path of ['/nope', '/services/orders/routes/orders-route/plugins/x', '/schemas', '/services/%E0%A4%A']) {
      assert.deepEqual(await statusAndBody(admin(ctx.gw.adminUrl, path)), [404, { message: 'Not found' }], path);
    }
    assert.deepEqual(await statusAndBody(admin(ctx.gw.adminUrl, '/nope', { method: 'DELETE' })), [404, { message: 'Not found' }]);
  });

  test('a known path with a method it does not serve is 405 Method not allowed', async () => {
    for (const [method, path] of [['DELETE', '/status'], ['PUT', '/services'], ['POST', '/'], ['GET', '/config'], ['PATCH', '/endpoints']] as const) {
      assert.deepEqual(await statusAndBody(admin(ctx.gw.adminUrl, path, { method })), [405, { message: 'Method not allowed' }], `${method} ${path}`);
    }
  });

  test('malformed JSON is 400 Cannot parse JSON body, before anything else', async () => {
    for (const path of ['/services', '/config', '/schemas/plugins/validate', '/services/orders']) {
      const method = path === '/services/orders' ? 'PATCH' : 'POST';
      const answer = await admin(ctx.gw.adminUrl, path, { method, body: '{"name": ', contentType: 'application/json' });
      assert.deepEqual([answer.status, answer.body], [400, { message: 'Cannot parse JSON body' }], path);
    }
  });

  test('an unsupported body type is 415; a broken multipart body is 400', async () => {
    const xml = await admin(ctx.gw.adminUrl, '/services', { body: '<service/>', contentType: 'application/xml' });
    assert.deepEqual([xml.status, xml.body], [415, { message: 'Unsupported Media Type' }]);
    const multipart = await admin(ctx.gw.adminUrl, '/config', { body: 'not multipart', contentType: 'multipart/form-data; boundary=xyz' });
    assert.equal(multipart.status, 400);
    assert.match(String(multipart.body.message), /multipart/);
  });

  test('HEAD answers like GET without a body; a trailing slash is ignored', async () => {
    const head = await request(`${ctx.gw.adminUrl}/services`, { method: 'HEAD' });
    assert.equal(head.statusCode, 200);
    assert.equal(await head.body.text(), '');
    assert.equal((await admin<PageBody>(ctx.gw.adminUrl, '/services/')).body.data.length, 1);
  });

  test('the listener keeps serving after all of the above', async () => {
    const status = await admin(ctx.gw.adminUrl, '/status');
    assert.equal(status.status, 200);
    assert.equal(typeof (status.body.pubsub as Body).subscribers, 'number');
  });
});
