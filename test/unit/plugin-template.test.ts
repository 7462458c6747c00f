import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, TemplateError, type TemplateContext } from '../../src/plugins/template.ts';

function context(over: {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  named?: Record<string, string>;
  unnamed?: string[];
  consumer?: { id: string; username?: string; custom_id?: string };
  shared?: Record<string, unknown>;
} = {}): TemplateContext {
  const headers = Object.fromEntries(Object.entries(over.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    request: {
      getHeader: (name) => headers[name.toLowerCase()],
      getQueryArg: (name) => over.query?.[name],
      getUriCaptures: () => ({ named: over.named ?? {}, unnamed: over.unnamed ?? [] }),
    },
    client: { getConsumer: () => (over.consumer ? { tags: [], ...over.consumer } : undefined) },
    ctx: { shared: over.shared ?? {} },
  };
}

describe('template compiler', () => {
  test('a text without $( is static and renders as itself', () => {
    const t = compileTemplate('plain value: 1');
    assert.equal(t.isStatic, true);
    assert.deepEqual(t.variables, []);
    assert.equal(t.render(context()), 'plain value: 1');
  });

  test('headers by dotted name (with dashes), by bracket, and x_name finding x-name', () => {
    const kong = context({ headers: { 'X-User': 'alice', 'x-tenant': 'acme' } });
    assert.equal(compileTemplate('u=$(headers.x-user)').render(kong), 'u=alice');
    assert.equal(compileTemplate('$(headers["X-Tenant"])/$(headers[\'x-user\'])').render(kong), 'acme/alice');
    assert.equal(compileTemplate('$(headers.x_tenant)').render(kong), 'acme');
  });

  test('query params, named and positional uri captures', () => {
    const kong = context({ query: { q: 'search term', 'a b': 'x' }, named: { id: '42' }, unnamed: ['/items/42', '42'] });
    assert.equal(compileTemplate('$(query_params.q)|$(query_params["a b"])').render(kong), 'search term|x');
    assert.equal(compileTemplate('/v2/$(uri_captures.id)/$(uri_captures[1])/$(uri_captures[0])').render(kong), '/v2/42/42//items/42');
  });

  test('consumer fields, jwt claims and shared values (scalars as text, tables as JSON)', () => {
    const kong = context({
      consumer: { id: 'c-1', username: 'alice', custom_id: 'A1' },
      shared: { jwt_claims: { sub: 'user-7', exp: 1700000000, roles: ['a', 'b'] }, tenant: { id: 't9' }, flag: true },
    });
    assert.equal(compileTemplate('$(consumer.id)/$(consumer.username)/$(consumer.custom_id)').render(kong), 'c-1/alice/A1');
    assert.equal(compileTemplate('$(jwt.claims.sub) $(jwt.claims.exp) $(jwt.claims.roles)').render(kong), 'user-7 1700000000 ["a","b"]');
    assert.equal(compileTemplate('$(shared.tenant.id)-$(shared.flag)').render(kong), 't9-true');
  });

  test('missing values render empty, or as the `or` default', () => {
    const kong = context();
    assert.equal(compileTemplate('[$(headers.none)][$(query_params.q)][$(consumer.id)][$(jwt.claims.sub)][$(shared.x.y)]').render(kong), '[][][][][]');
    assert.equal(compileTemplate('$(uri_captures["user-id"] or "anonymous")').render(kong), 'anonymous');
    assert.equal(compileTemplate("$( headers.x or 'd\\'q' )").render(kong), "d'q");
  });

  test('\\$( is a literal $(', () => {
    const t = compileTemplate('cost \\$(headers.x) is $(headers.x)');
    assert.equal(t.variables.length, 1);
    assert.equal(t.render(context({ headers: { x: '5' } })), 'cost $(headers.x) is 5');
    assert.equal(compileTemplate('\\$(').isStatic, true);
  });

  test('lists the variables it uses', () => {
    const t = compileTemplate('/c/$(consumer.id)/$(jwt.claims.sub)/$(uri_captures[2])');
    assert.equal(t.isStatic, false);
    assert.deepEqual(t.variables, [
      { namespace: 'consumer', path: ['id'], expression: 'consumer.id' },
      { namespace: 'jwt', path: ['claims', 'sub'], expression: 'jwt.claims.sub' },
      { namespace: 'uri_captures', path: [2], expression: 'uri_captures[2]' },
    ]);
  });

  for (const [text, why] of [
    ['$(headers.x', /missing '\)'/],
    ['$()', /empty expression/],
    ['$(cookies.x)', /unknown variable 'cookies'/],
    ['$(os.getenv("HOME"))', /unknown variable 'os'/],
    ['$(headers)', /expected headers\.<name>/],
    ['$(headers.a.b)', /expected headers\.<name>/],
    ['$(consumer.password)', /expected consumer\.id/],
    ['$(jwt.sub)', /expected jwt\.claims/],
    ['$(shared)', /expected shared\.<key>/],
    ['$(headers[x])', /quoted name or a number/],
    ['$(headers["x)', /unterminated string/],
    ['$(headers["x")', /expected '\]'/],
    ['$(headers.x or default)', /quoted string after 'or'/],
    ['$(headers.x .. "y")', /unexpected '\.'/],
    ['$(headers.)', /expected a name after '\.'/],
  ] as const) {
    test(`rejects ${text}`, () => {
      assert.throws(() => compileTemplate(text), (err: unknown) => err instanceof TemplateError && why.test(err.message) && err.message.includes(JSON.stringify(text)));
    });
  }
});
