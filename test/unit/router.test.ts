import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Route } from '../../src/config/types.ts';
import { createRouter } from '../../src/router/index.ts';
import { compileRoute, regexLiteralStart, testMatcher } from '../../src/router/matcher.ts';
import { normalizePath } from '../../src/router/normalize.ts';
import { comparePriority } from '../../src/router/priority.ts';
import type { RouteMatch, RouteRequest } from '../../src/router/types.ts';
import { request, route, services } from './router-fixtures.ts';

interface Case {
  readonly title: string;
  readonly routes: readonly Route[];
  /** `path` here is raw: the test normalizes it as the gateway does. */
  readonly req: Partial<RouteRequest>;
  /** Expected route name, or null for "no route". */
  readonly expect: string | null;
  readonly named?: Record<string, string>;
  readonly unnamed?: readonly string[];
  readonly matchedPath?: string;
  readonly redirect?: boolean;
}

const r = route;

const CASES: readonly Case[] = [
  // --- paths
  { title: 'plain prefix matches', routes: [r('a', { paths: ['/api'] })], req: { path: '/api/users' }, expect: 'a', matchedPath: '/api' },
  { title: 'prefix is a string prefix (Kong: /foo matches /foobar)', routes: [r('a', { paths: ['/foo'] })], req: { path: '/foobar' }, expect: 'a' },
  { title: 'no route matches', routes: [r('a', { paths: ['/api'] })], req: { path: '/other' }, expect: null },
  { title: 'longest prefix wins', routes: [r('short', { paths: ['/a'] }), r('long', { paths: ['/a/b'] })], req: { path: '/a/b/c' }, expect: 'long' },
  { title: 'shorter prefix when the longer does not match', routes: [r('short', { paths: ['/a'] }), r('long', { paths: ['/a/b'] })], req: { path: '/a/x' }, expect: 'short' },
  { title: 'root prefix is the catch-all', routes: [r('root', { paths: ['/'] }), r('api', { paths: ['/api'] })], req: { path: '/zzz' }, expect: 'root' },
  { title: 'trailing-slash prefix does not match the bare segment', routes: [r('slash', { paths: ['/api/'] }), r('root', { paths: ['/'] })], req: { path: '/api' }, expect: 'root' },
  { title: 'route paths are normalized at build time', routes: [r('a', { paths: ['/a//b/./c'] })], req: { path: '/a/b/c' }, expect: 'a', matchedPath: '/a/b/c' },
  { title: 'route path with %7E matches request ~', routes: [r('a', { paths: ['/%7Euser'] })], req: { path: '/~user/x' }, expect: 'a' },
  { title: 'encoded unreserved in request is decoded before matching', routes: [r('a', { paths: ['/api'] })], req: { path: '/%61%70%69/x' }, expect: 'a' },
  { title: '%2F is not a separator', routes: [r('ab', { paths: ['/a/b'] })], req: { path: '/a%2Fb' }, expect: null },
  { title: 'non-ASCII route path matches its UTF-8 escapes', routes: [r('cafe', { paths: ['/café'] })], req: { path: '/caf%c3%a9/menu' }, expect: 'cafe' },

  // --- the /public/../protected bypass class (CVE-2021-27306)
  { title: 'bypass: /public/../protected routes to protected', routes: [r('public', { paths: ['/public'] }), r('protected', { paths: ['/protected'] })], req: { path: '/public/../protected' }, expect: 'protected' },
  { title: 'bypass: %2e%2e routes to protected', routes: [r('public', { paths: ['/public'] }), r('protected', { paths: ['/protected'] })], req: { path: '/public/%2e%2e/protected' }, expect: 'protected' },
  { title: 'bypass: %2E%2E routes to protected', routes: [r('public', { paths: ['/public'] }), r('protected', { paths: ['/protected'] })], req: { path: '/public/%2E%2E/protected/x' }, expect: 'protected' },
  { title: 'bypass: .%2e and double slashes', routes: [r('public', { paths: ['/public'] }), r('protected', { paths: ['/protected'] })], req: { path: '//public//.%2e//protected' }, expect: 'protected' },
  { title: 'bypass: regex route sees the normalized path', routes: [r('public', { paths: ['~/public'] }), r('admin', { paths: ['~/admin/(?<op>\\w+)$'] })], req: { path: '/public/../admin/delete' }, expect: 'admin', named: { op: 'delete' } },

  // --- regex
  { title: 'regex beats a longer prefix', routes: [r('prefix', { paths: ['/users/profile/settings'] }), r('regex', { paths: ['~/users/\\w+'] })], req: { path: '/users/profile/settings' }, expect: 'regex' },
  { title: 'higher regex_priority wins', routes: [r('low', { paths: ['~/items/\\d+'], regex_priority: 1 }), r('high', { paths: ['~/items/'], regex_priority: 5 })], req: { path: '/items/42' }, expect: 'high' },
  { title: 'equal regex_priority: older created_at wins', routes: [r('first', { paths: ['~/items/'] }), r('second', { paths: ['~/items/\\d+'] })], req: { path: '/items/42' }, expect: 'first' },
  { title: 'regex_priority does not lift a prefix route', routes: [r('prefix', { paths: ['/items'], regex_priority: 100 }), r('regex', { paths: ['~/items'] })], req: { path: '/items' }, expect: 'regex' },
  { title: 'regex is anchored at the start', routes: [r('regex', { paths: ['~/users/\\d+'] })], req: { path: '/api/users/1' }, expect: null },
  { title: 'regex without $ matches a longer path', routes: [r('regex', { paths: ['~/users/\\d+'] })], req: { path: '/users/12/books' }, expect: 'regex', matchedPath: '/users/12' },
  { title: 'regex with $ does not', routes: [r('regex', { paths: ['~/users/\\d+$'] })], req: { path: '/users/12/books' }, expect: null },
  {
    title: 'named captures',
    routes: [r('regex', { paths: ['~/orgs/(?<org>[a-z]+)/repos/(?<repo>[a-z0-9-]+)$'] })],
    req: { path: '/orgs/acme/repos/sluice-1' },
    expect: 'regex',
    named: { org: 'acme', repo: 'sluice-1' },
    unnamed: ['/orgs/acme/repos/sluice-1', 'acme', 'sluice-1'],
  },
  { title: 'unnamed captures', routes: [r('regex', { paths: ['~/v(\\d+)/(\\w+)'] })], req: { path: '/v2/things' }, expect: 'regex', unnamed: ['/v2/things', '2', 'things'], named: {} },
  { title: 'PCRE (?P<name>) syntax is accepted', routes: [r('regex', { paths: ['~/chat/(?P<room>[a-z]+)/events$'] })], req: { path: '/chat/lobby/events' }, expect: 'regex', named: { room: 'lobby' } },
  { title: 'regex alternation stays anchored', routes: [r('regex', { paths: ['~/a|/b'] })], req: { path: '/x/b' }, expect: null },

  // --- methods, hosts, headers precedence (match weight)
  { title: 'method + path beats a longer path alone', routes: [r('path', { paths: ['/api/v1/users'] }), r('method', { paths: ['/api'], methods: ['GET'] })], req: { path: '/api/v1/users' }, expect: 'method' },
  { title: 'method mismatch falls through', routes: [r('path', { paths: ['/api'] }), r('post', { paths: ['/api'], methods: ['POST'] })], req: { path: '/api', method: 'GET' }, expect: 'path' },
  { title: 'route methods are upper-cased', routes: [r('get', { paths: ['/api'], methods: ['get'] })], req: { path: '/api', method: 'GET' }, expect: 'get' },
  { title: 'host + path beats path + method? no: equal weight, plain host bit wins', routes: [r('method', { paths: ['/api'], methods: ['GET'] }), r('host', { paths: ['/api'], hosts: ['example.com'] })], req: { path: '/api' }, expect: 'host' },
  { title: 'hosts + methods + paths beats hosts + paths', routes: [r('two', { paths: ['/api/long/prefix'], hosts: ['example.com'] }), r('three', { paths: ['/api'], hosts: ['example.com'], methods: ['GET'] })], req: { path: '/api/long/prefix' }, expect: 'three' },
  { title: 'host-only route matches any path', routes: [r('host', { hosts: ['example.com'] })], req: { path: '/anything/at/all' }, expect: 'host' },
  { title: 'host-only beats path-only (plain host bit)', routes: [r('path', { paths: ['/very/long/path'] }), r('host', { hosts: ['example.com'] })], req: { path: '/very/long/path' }, expect: 'host' },
  { title: 'headers + path beats a longer path', routes: [r('path', { paths: ['/api/v2'] }), r('hdr', { paths: ['/api'], headers: { 'x-version': ['2'] } })], req: { path: '/api/v2', headers: { 'x-version': '2' } }, expect: 'hdr' },
  { title: 'more headers win', routes: [r('one', { paths: ['/api'], headers: { 'x-a': ['1'] } }), r('two', { paths: ['/api'], headers: { 'x-a': ['1'], 'x-b': ['2'] } })], req: { path: '/api', headers: { 'x-a': '1', 'x-b': '2' } }, expect: 'two' },
  { title: 'headers are AND: a missing one fails', routes: [r('one', { paths: ['/api'], headers: { 'x-a': ['1'] } }), r('two', { paths: ['/api'], headers: { 'x-a': ['1'], 'x-b': ['2'] } })], req: { path: '/api', headers: { 'x-a': '1' } }, expect: 'one' },
  { title: 'header values are OR and case-insensitive', routes: [r('hdr', { headers: { 'x-env': ['staging', 'Canary'] } })], req: { headers: { 'x-env': 'CANARY' } }, expect: 'hdr' },
  { title: 'header regex ~* is case-insensitive and unanchored', routes: [r('hdr', { headers: { 'user-agent': ['~*mobile'] } })], req: { headers: { 'user-agent': 'Foo MOBILE Safari' } }, expect: 'hdr' },
  { title: 'header regex anchors are honoured', routes: [r('hdr', { headers: { 'x-version': ['~*^v\\d+$'] } })], req: { headers: { 'x-version': 'v2beta' } }, expect: null },
  { title: 'any value of a repeated header may match', routes: [r('hdr', { headers: { 'x-tag': ['gold'] } })], req: { headers: { 'x-tag': ['silver', 'gold'] } }, expect: 'hdr' },

  // --- hosts
  { title: 'plain host beats wildcard host', routes: [r('wild', { hosts: ['*.example.com'] }), r('plain', { hosts: ['api.example.com'] })], req: { host: 'api.example.com' }, expect: 'plain' },
  { title: 'leftmost wildcard matches a subdomain', routes: [r('wild', { hosts: ['*.example.com'] })], req: { host: 'api.example.com' }, expect: 'wild' },
  { title: 'leftmost wildcard matches several labels', routes: [r('wild', { hosts: ['*.example.com'] })], req: { host: 'a.b.example.com' }, expect: 'wild' },
  { title: 'leftmost wildcard does not match the bare domain', routes: [r('wild', { hosts: ['*.example.com'] })], req: { host: 'example.com' }, expect: null },
  { title: 'rightmost wildcard matches any TLD', routes: [r('wild', { hosts: ['example.*'] })], req: { host: 'example.org' }, expect: 'wild' },
  { title: 'rightmost wildcard needs the dot', routes: [r('wild', { hosts: ['example.*'] })], req: { host: 'examples.org' }, expect: null },
  { title: 'wildcard + path beats plain host alone', routes: [r('plain', { hosts: ['api.example.com'] }), r('wild', { hosts: ['*.example.com'], paths: ['/x'] })], req: { host: 'api.example.com', path: '/x' }, expect: 'wild' },
  { title: 'a route with one wildcard host loses the plain-host bit', routes: [r('mixed', { hosts: ['api.example.com', '*.example.org'] }), r('plain', { hosts: ['api.example.com'] })], req: { host: 'api.example.com' }, expect: 'plain' },
  { title: 'host:port matches on the destination port', routes: [r('any', { hosts: ['example.com'] }), r('p8080', { hosts: ['example.com:8080'], created_at: -1 })], req: { port: 8080 }, expect: 'p8080' },
  { title: 'host:port does not match another port', routes: [r('p8080', { hosts: ['example.com:8080'] })], req: { port: 80 }, expect: null },
  { title: 'route hosts are case-insensitive', routes: [r('host', { hosts: ['API.Example.COM'] })], req: { host: 'api.example.com' }, expect: 'host' },

  // --- snis and protocols
  { title: 'sni-only route loses to a path route (equal weight, path length)', routes: [r('path', { paths: ['/'] }), r('sni', { snis: ['secure.example.com'], protocols: ['https'] })], req: { scheme: 'https', sni: 'secure.example.com' }, expect: 'path' },
  { title: 'sni matches on https', routes: [r('path', { paths: ['/'] }), r('sni', { snis: ['secure.example.com'], paths: ['/'], protocols: ['https'] })], req: { scheme: 'https', sni: 'secure.example.com' }, expect: 'sni' },
  { title: 'sni mismatch on https falls through', routes: [r('path', { paths: ['/'] }), r('sni', { snis: ['secure.example.com'], paths: ['/'], protocols: ['https'] })], req: { scheme: 'https', sni: 'other.example.com' }, expect: 'path' },
  { title: 'sni is ignored on plain http (weight still counts)', routes: [r('path', { paths: ['/api/long'] }), r('sni', { snis: ['secure.example.com'], paths: ['/api'] })], req: { path: '/api/long', scheme: 'http' }, expect: 'sni' },
  { title: 'https-only route on http: matched with a redirect flag', routes: [r('secure', { paths: ['/pay'], protocols: ['https'] })], req: { path: '/pay', scheme: 'http' }, expect: 'secure', redirect: true },
  { title: 'https-only route on https: no redirect', routes: [r('secure', { paths: ['/pay'], protocols: ['https'] })], req: { path: '/pay', scheme: 'https' }, expect: 'secure', redirect: false },
  { title: 'https-only route still wins over a weaker http route (Kong redirects)', routes: [r('http', { paths: ['/'] }), r('secure', { paths: ['/pay'], protocols: ['https'] })], req: { path: '/pay', scheme: 'http' }, expect: 'secure', redirect: true },
  { title: 'http-only route does not match https', routes: [r('plain', { paths: ['/x'], protocols: ['http'] })], req: { path: '/x', scheme: 'https' }, expect: null },
  { title: 'grpc route matches an http request', routes: [r('grpc', { paths: ['/pkg.Svc/'], protocols: ['grpc'], strip_path: false })], req: { path: '/pkg.Svc/Call' }, expect: 'grpc' },
  { title: 'stream routes are not on the HTTP router', routes: [r('tcp', { protocols: ['tcp'], snis: ['x'] }), r('http', { paths: ['/'] })], req: {}, expect: 'http' },

  // --- split routes and tie-breaks
  { title: 'multi-path route: each path carries its own length', routes: [r('multi', { paths: ['/a', '/long/path'] }), r('mid', { paths: ['/long'] })], req: { path: '/long/path/x' }, expect: 'multi', matchedPath: '/long/path' },
  { title: 'multi-path route: its short path loses to a longer one', routes: [r('multi', { paths: ['/l', '/zzzzzzzz'] }), r('mid', { paths: ['/long'] })], req: { path: '/long/x' }, expect: 'mid' },
  { title: 'multi-path route mixing regex and prefix', routes: [r('mixed', { paths: ['/static', '~/dyn/(?<id>\\d+)'] }), r('other', { paths: ['/dyn'] })], req: { path: '/dyn/7' }, expect: 'mixed', named: { id: '7' } },
  { title: 'tie: older created_at wins', routes: [r('newer', { paths: ['/same'], created_at: 20 }), r('older', { paths: ['/same'], created_at: 10 })], req: { path: '/same' }, expect: 'older' },
  { title: 'tie: equal created_at, smaller id wins', routes: [r('b', { id: 'bbb', paths: ['/same'], created_at: 5 }), r('a', { id: 'aaa', paths: ['/same'], created_at: 5 })], req: { path: '/same' }, expect: 'a' },
];

function run(c: Case): RouteMatch | undefined {
  const router = createRouter(c.routes, services);
  const req = request(c.req);
  return router.match({ ...req, path: normalizePath(req.path) });
}

describe('router: table', () => {
  it('has at least 40 cases', () => assert.ok(CASES.length >= 40));
  for (const c of CASES) {
    it(c.title, () => {
      const match = run(c);
      assert.equal(match?.route.name ?? null, c.expect);
      if (!match) return;
      if (c.named) assert.deepEqual({ ...match.uriCaptures.named }, c.named);
      if (c.unnamed) assert.deepEqual([...match.uriCaptures.unnamed], c.unnamed);
      if (c.matchedPath) assert.equal(match.matchedPath, c.matchedPath);
      if (c.redirect !== undefined) assert.equal(match.httpsRedirect === true, c.redirect);
      assert.equal(match.service?.id, match.route.service);
    });
  }
});

describe('router: behaviour', () => {
  it('reports the number of routes', () => {
    assert.equal(createRouter([r('a', { paths: ['/a'] }), r('b', { paths: ['/b', '/bb'] })], services).size, 2);
  });

  it('a route without a service matches with service undefined', () => {
    const match = createRouter([r('orphan', { paths: ['/o'], service: undefined })], services).match(request({ path: '/o' }));
    assert.equal(match?.route.name, 'orphan');
    assert.equal(match?.service, undefined);
  });

  it('rejects an invalid regex path at build time, naming the route', () => {
    assert.throws(() => createRouter([r('broken', { paths: ['~/a(('] })], services), /broken/);
  });

  it('rejects a wildcard in the middle of a host, naming the route', () => {
    assert.throws(() => createRouter([r('midwild', { hosts: ['api.*.example.com'] })], services), /midwild.*wildcard/);
  });

  it('cache: a header value used by some route is part of the key', () => {
    const router = createRouter([r('plain', { paths: ['/x'] }), r('beta', { paths: ['/x'], headers: { 'x-beta': ['1'] } })], services);
    assert.equal(router.match(request({ path: '/x', headers: { 'x-beta': '1' } }))?.route.name, 'beta');
    assert.equal(router.match(request({ path: '/x' }))?.route.name, 'plain');
    assert.equal(router.match(request({ path: '/x', headers: { 'x-beta': '1' } }))?.route.name, 'beta');
    assert.equal(router.match(request({ path: '/x', headers: { 'x-beta': ['0', '1'] } }))?.route.name, 'beta');
  });

  it('cache: scheme, port, sni and method are part of the key', () => {
    const router = createRouter(
      [
        r('fallback', { paths: ['/'] }),
        r('secure', { paths: ['/s'], protocols: ['https'] }),
        r('port', { hosts: ['example.com:8443'] }),
        r('sni', { snis: ['a.test'], paths: ['/n'], protocols: ['https'] }),
        r('post', { methods: ['POST'], paths: ['/m'] }),
      ],
      services,
    );
    for (let round = 0; round < 2; round++) {
      assert.equal(router.match(request({ path: '/s' }))?.httpsRedirect, true);
      assert.equal(router.match(request({ path: '/s', scheme: 'https' }))?.httpsRedirect, undefined);
      assert.equal(router.match(request({ port: 8443 }))?.route.name, 'port');
      assert.equal(router.match(request({ port: 80 }))?.route.name, 'fallback');
      assert.equal(router.match(request({ path: '/n', scheme: 'https', sni: 'a.test' }))?.route.name, 'sni');
      assert.equal(router.match(request({ path: '/n', scheme: 'https', sni: 'b.test' }))?.route.name, 'fallback');
      assert.equal(router.match(request({ path: '/m', method: 'POST' }))?.route.name, 'post');
      assert.equal(router.match(request({ path: '/m', method: 'GET' }))?.route.name, 'fallback');
      assert.equal(router.match(request({ path: '/zzz', host: 'nothing.test' }))?.route.name, 'fallback');
    }
  });

  it('cache: a tiny cache still answers correctly on many distinct paths', () => {
    const router = createRouter([r('a', { paths: ['/a'] }), r('rx', { paths: ['~/r/(?<n>\\d+)$'] })], services, { cacheSize: 8 });
    for (let i = 0; i < 500; i++) {
      assert.equal(router.match(request({ path: `/a/${i}` }))?.route.name, 'a');
      assert.equal(router.match(request({ path: `/r/${i}` }))?.uriCaptures.named.n, String(i));
      assert.equal(router.match(request({ path: `/none/${i}` })), undefined);
    }
  });

  it('returned matches are frozen (safe to share from the cache)', () => {
    const match = createRouter([r('rx', { paths: ['~/r/(?<n>\\d+)$'] })], services).match(request({ path: '/r/1' }));
    assert.ok(match && Object.isFrozen(match.uriCaptures.named));
  });
});

describe('regexLiteralStart (regex paths indexed by first segment)', () => {
  const rows: [string, string][] = [
    ['/users/(?<id>\\d+)$', '/users/'],
    ['/users', '/users'],
    ['/ab?', '/a'],
    ['/a{2}', '/'],
    ['/a\\/b\\.c', '/a/b.c'],
    ['/a.b', '/a'],
    ['^/a', ''],
    ['/a|/b', ''],
    ['/x\\d', '/x'],
    ['/(a|b)', ''],
  ];
  for (const [source, expected] of rows) {
    it(`${source} -> ${JSON.stringify(expected)}`, () => assert.equal(regexLiteralStart(source), expected));
  }
});

/** Reference: every matcher in priority order, first match wins — what the indexes must equal. */
function linearReference(routes: readonly Route[]): (req: RouteRequest) => string | null {
  const matchers = routes.flatMap((rt) => compileRoute(rt, services.get('svc'))).sort((a, b) => comparePriority(a.priority, b.priority));
  return (req) => {
    for (const m of matchers) if (testMatcher(m, req)) return m.route.name ?? null;
    return null;
  };
}

describe('router: indexes agree with a linear scan', () => {
  const segments = ['a', 'ab', 'abc', 'b', 'users', 'u', ''];
  const hostNames = ['example.com', 'api.example.com', 'a.b.example.com', 'example.org', 'other.test'];
  const pathArb = fc.array(fc.constantFrom(...segments), { minLength: 0, maxLength: 4 }).map((s) => `/${s.join('/')}`);
  const routeArb = fc.record({
    paths: fc.option(fc.array(fc.oneof(pathArb, fc.constantFrom('~/a/\\w+', '~/users/(?<id>\\d+)', '~/ab?', '~/\\w+/b', '~/a|/u', '~/abc$', '~/')), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    hosts: fc.option(fc.array(fc.constantFrom('example.com', '*.example.com', 'example.*', 'api.example.com', 'example.com:8080'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
    methods: fc.option(fc.constantFrom(['GET'], ['POST'], ['GET', 'POST']), { nil: undefined }),
    regex_priority: fc.integer({ min: 0, max: 3 }),
    created_at: fc.integer({ min: 0, max: 5 }),
  });
  const reqArb = fc.record({
    path: fc.oneof(pathArb, fc.constantFrom('/users/12', '/a/xyz', '/abc/d')),
    host: fc.constantFrom(...hostNames),
    method: fc.constantFrom('GET', 'POST'),
    port: fc.constantFrom(80, 8080),
  });

  it('property: same answer as the reference for random route tables', () => {
    fc.assert(
      fc.property(fc.array(routeArb, { minLength: 1, maxLength: 12 }), fc.array(reqArb, { minLength: 1, maxLength: 10 }), (specs, reqs) => {
        const routes = specs.map((spec, i) => {
          const fields: Partial<Route> = { regex_priority: spec.regex_priority, created_at: spec.created_at };
          if (spec.paths) Object.assign(fields, { paths: spec.paths });
          if (spec.hosts) Object.assign(fields, { hosts: spec.hosts });
          if (spec.methods) Object.assign(fields, { methods: spec.methods });
          return route(`r${i}`, fields);
        });
        const router = createRouter(routes, services);
        const reference = linearReference(routes);
        for (const partial of reqs) {
          const req = request(partial);
          assert.equal(router.match(req)?.route.name ?? null, reference(req), JSON.stringify(partial));
          assert.equal(router.match(req)?.route.name ?? null, reference(req), 'cached answer');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('router: 10,000 routes', () => {
  const routes: Route[] = [];
  for (let i = 0; i < 10_000; i++) {
    if (i % 10 === 0) routes.push(route(`host-${i}`, { hosts: [`svc${i}.example.com`], paths: [`/svc${i}/`] }));
    else if (i % 25 === 1) routes.push(route(`regex-${i}`, { paths: [`~/rx${i}/(?<id>\\d+)$`] }));
    else if (i % 50 === 2) routes.push(route(`wild-${i}`, { hosts: [`*.w${i}.example.com`] }));
    else routes.push(route(`prefix-${i}`, { paths: [`/svc${i}/`, `/alias${i}/v1`], methods: i % 3 === 0 ? ['GET', 'POST'] : undefined }));
  }
  const router = createRouter(routes, services);

  it('finds the right route for every kind', () => {
    for (let i = 0; i < 10_000; i++) {
      const route = routes[i] as Route;
      let req: RouteRequest;
      if (route.name?.startsWith('host-')) req = request({ host: `svc${i}.example.com`, path: `/svc${i}/x` });
      else if (route.name?.startsWith('regex-')) req = request({ path: `/rx${i}/77` });
      else if (route.name?.startsWith('wild-')) req = request({ host: `api.w${i}.example.com`, path: '/anything' });
      else req = request({ path: i % 2 ? `/svc${i}/items` : `/alias${i}/v1/items` });
      const match = router.match(req);
      assert.equal(match?.route.name, route.name, JSON.stringify(req));
      if (route.name?.startsWith('regex-')) assert.equal(match?.uriCaptures.named.id, '77');
    }
  });

  it('agrees with the linear reference on a sample', () => {
    const reference = linearReference(routes);
    const samples = ['/svc5/a', '/svc50', '/svc50/', '/svc500/b', '/svc5000/', '/alias7/v1', '/alias7/v2', '/rx26/1', '/rx26/x', '/nope', '/'];
    for (const path of samples) {
      for (const host of ['example.com', 'svc50.example.com', 'x.w52.example.com']) {
        const req = request({ path, host });
        assert.equal(router.match(req)?.route.name ?? null, reference(req), `${host}${path}`);
      }
    }
  });
});
