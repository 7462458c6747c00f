import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GatewayError } from '../../src/gateway/errors.ts';
import { normalizePath, splitRequestTarget } from '../../src/router/normalize.ts';

const cases: [string, string][] = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  ['/public/../protected', '/protected'],
  ['/public/%2e%2e/protected', '/protected'],
  ['/public/%2E%2E/protected', '/protected'],
  ['/public/.%2e/protected', '/protected'],
  ['/public/%2e./protected', '/protected'],
  ['/public/%2e/protected', '/public/protected'],
  ['//a///b', '/a/b'],
  ['/a/./b', '/a/b'],
  ['/a/b/../c', '/a/c'],
  ['/a/./b/../c', '/a/c'],
  ['/../../a', '/a'],
  ['/..', '/'],
  ['/.', '/'],
  ['/a/..', '/'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a//../b', '/b'],
  ['/a/%2F/b', '/a/%2F/b'],
  ['/a%2fb', '/a%2Fb'],
  ['/a%2f..%2fb', '/a%2F..%2Fb'],
  ['/%41', '/A'],
  ['/%61%62%63', '/abc'],
  ['/%7e', '/~'],
  ['/%7E%2d%5f%2E', '/~-_.'],
  ['/%30%39', '/09'],
  ['/a%25b', '/a%25b'],
  ['/a%2541', '/a%2541'],
  ['/a%3bb', '/a%3Bb'],
  ['/a%3Fb', '/a%3Fb'],
  ['/a%23b', '/a%23b'],
  ['/a%20b', '/a%20b'],
  ['/a b', '/a%20b'],
  ['/a%5cb', '/a%5Cb'],
  ['/a\\b', '/a%5Cb'],
  ['/a%0ab', '/a%0Ab'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/caf\u00c3\u00a9', '/caf%C3%A9'],
  ['/\u4e2d', '/%E4%B8%AD'],
  ["/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;="],
  ['/a..b/c.d/.e', '/a..b/c.d/.e'],
  ['/...', '/...'],
];

function badPathDetail(input: string): string {
  try {
    normalizePath(input);
  } catch (error) {
    assert.ok(error instanceof GatewayError, 'throws a GatewayError');
    assert.equal(error.code, 'BAD_PATH');
    assert.equal(error.status, 400);
    return error.detail ?? '';
  }
  assert.fail(`expected BAD_PATH for ${JSON.stringify(input)}`);
}

describe('normalizePath', () => {
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => {
      assert.equal(normalizePath(input), expected);
    });
  }

  for (const input of ['/a%00b', '/a\u0000b', '/%zz', '/a%4', '/a%', '/a%g1', '/%4x/b', '', 'a/b', '*', 'http://x/', '/a\nb', '/a\rb', '/a\tb', '/a\u007fb']) {
    it(`rejects ${JSON.stringify(input)} with BAD_PATH`, () => {
      assert.ok(badPathDetail(input).length > 0, 'has a detail');
    });
  }

  it('names the offending thing in the detail', () => {
    assert.match(badPathDetail('/a%00'), /NUL/);
    assert.match(badPathDetail('/a%zz'), /percent-escape/);
    assert.match(badPathDetail('a'), /start with/);
    assert.match(badPathDetail('/\u0001'), /control/);
  });

  const tokens = ['a', 'B', '/', '//', '.', '..', '%2e', '%2E', '%2e%2e', '%2F', '%2f', '%41', '%7e', '%25', '%20', ' ', '~', '-', '_', ':', '\u00e9', '\u4e2d', '%C3%A9', '?', '#', '[', ';'];
  const pathArb = fc.array(fc.constantFrom(...tokens), { maxLength: 24 }).map((parts) => `/${parts.join('')}`);

  it('property: no dot segment, no empty segment, starts with /, idempotent', () => {
    fc.assert(
      fc.property(pathArb, (raw) => {
        const out = normalizePath(raw);
        assert.ok(out.startsWith('/'));
        assert.ok(!out.includes('//'), `no // in ${out}`);
        for (const segment of out.split('/')) assert.ok(segment !== '.' && segment !== '..', `no dot segment in ${out}`);
        assert.equal(normalizePath(out), out);
        assert.match(out, /^[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$/, 'only request-target-safe characters');
      }),
      { numRuns: 2000 },
    );
  });

  it('property: arbitrary strings either normalize idempotently or throw BAD_PATH', () => {
    const anyPath = fc.string({ maxLength: 30 }).map((s) => `/${s}`);
    fc.assert(
      fc.property(anyPath, (raw) => {
        let out: string;
        try {
          out = normalizePath(raw);
        } catch (error) {
          assert.ok(error instanceof GatewayError && error.code === 'BAD_PATH');
          return;
        }
        assert.ok(!out.includes('//'));
        assert.equal(normalizePath(out), out);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: percent-encoding unreserved characters does not change the result', () => {
    const encodeUnreserved = (token: string): string =>
      token.includes('%') ? token : token.replace(/[A-Za-z0-9._~-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 24 }), (parts) => {
        assert.equal(normalizePath(`/${parts.map(encodeUnreserved).join('')}`), normalizePath(`/${parts.join('')}`));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('splitRequestTarget', () => {
  const targets: [string, { path: string; query: string; hasQueryMark: boolean }][] = [
    ['/a/b', { path: '/a/b', query: '', hasQueryMark: false }],
    ['/a/b?x=1&y=2', { path: '/a/b', query: 'x=1&y=2', hasQueryMark: true }],
    ['/a?', { path: '/a', query: '', hasQueryMark: true }],
    ['/a?b?c', { path: '/a', query: 'b?c', hasQueryMark: true }],
    ['/a#frag', { path: '/a', query: '', hasQueryMark: false }],
    ['/a?q#frag', { path: '/a', query: 'q', hasQueryMark: true }],
    ['http://example.com/a/b?x', { path: '/a/b', query: 'x', hasQueryMark: true }],
    ['https://example.com:8443/a', { path: '/a', query: '', hasQueryMark: false }],
    ['http://example.com', { path: '/', query: '', hasQueryMark: false }],
    ['http://example.com?x=1', { path: '/', query: 'x=1', hasQueryMark: true }],
    ['HTTP://Example.com/%2e%2e/x', { path: '/%2e%2e/x', query: '', hasQueryMark: false }],
    ['*', { path: '*', query: '', hasQueryMark: false }],
  ];
  for (const [target, expected] of targets) {
    it(JSON.stringify(target), () => {
      assert.deepEqual({ ...splitRequestTarget(target) }, expected);
    });
  }

  it('feeds normalizePath: an absolute-form dot-dot target is normalized', () => {
    assert.equal(normalizePath(splitRequestTarget('http://h/public/%2E%2E/protected?x').path), '/protected');
  });
});
