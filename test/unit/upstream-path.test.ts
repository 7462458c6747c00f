import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRouter } from '../../src/router/index.ts';
import { normalizePath } from '../../src/router/normalize.ts';
import { buildUpstreamPath } from '../../src/router/upstream-path.ts';
import { request, route, service } from './router-fixtures.ts';

interface Row {
  /** Service path; undefined = none (Kong uses `/`). */
  readonly s: string | undefined;
  /** Route path; undefined = a host-only route. */
  readonly r: string | undefined;
  readonly strip: boolean;
  readonly handling: 'v0' | 'v1';
  readonly req: string;
  readonly expected: string;
}

const ROWS: readonly Row[] = [
  // Kong Admin API docs, `path_handling` table (autodoc/data/admin-api.lua)
  { s: '/s', r: '/fv0', strip: false, handling: 'v0', req: '/fv0req', expected: '/s/fv0req' },
  { s: '/s', r: '/fv1', strip: false, handling: 'v1', req: '/fv1req', expected: '/sfv1req' },
  { s: '/s', r: '/tv0', strip: true, handling: 'v0', req: '/tv0req', expected: '/s/req' },
  { s: '/s', r: '/tv1', strip: true, handling: 'v1', req: '/tv1req', expected: '/sreq' },
  { s: '/s', r: '/fv0/', strip: false, handling: 'v0', req: '/fv0/req', expected: '/s/fv0/req' },
  { s: '/s', r: '/fv1/', strip: false, handling: 'v1', req: '/fv1/req', expected: '/sfv1/req' },
  { s: '/s', r: '/tv0/', strip: true, handling: 'v0', req: '/tv0/req', expected: '/s/req' },
  { s: '/s', r: '/tv1/', strip: true, handling: 'v1', req: '/tv1/req', expected: '/sreq' },
  // S = /svc + R (reference section "Upstream URI construction")
  { s: '/svc', r: '/foo', strip: true, handling: 'v0', req: '/foo/bar', expected: '/svc/bar' },
  { s: '/svc', r: '/foo', strip: true, handling: 'v0', req: '/foo', expected: '/svc' },
  { s: '/svc', r: '/foo', strip: true, handling: 'v0', req: '/foo/', expected: '/svc/' },
  { s: '/svc/', r: '/foo', strip: true, handling: 'v0', req: '/foo/bar', expected: '/svc/bar' },
  { s: '/svc/', r: '/foo', strip: true, handling: 'v0', req: '/foo', expected: '/svc' },
  { s: '/svc/', r: '/foo', strip: true, handling: 'v0', req: '/foo/', expected: '/svc/' },
  { s: '/svc/', r: '/foo/', strip: true, handling: 'v0', req: '/foo/bar', expected: '/svc/bar' },
  { s: '/svc', r: '/foo', strip: false, handling: 'v0', req: '/foo/bar', expected: '/svc/foo/bar' },
  { s: '/svc/', r: '/foo', strip: false, handling: 'v0', req: '/foo/bar', expected: '/svc/foo/bar' },
  { s: '/svc', r: undefined, strip: false, handling: 'v0', req: '/', expected: '/svc' },
  { s: '/svc/', r: undefined, strip: false, handling: 'v0', req: '/', expected: '/svc/' },
  { s: undefined, r: '/foo', strip: true, handling: 'v0', req: '/foo/bar', expected: '/bar' },
  { s: undefined, r: '/foo', strip: true, handling: 'v0', req: '/foo', expected: '/' },
  { s: undefined, r: '/foo', strip: true, handling: 'v0', req: '/foo/', expected: '/' },
  { s: undefined, r: '/foo', strip: false, handling: 'v0', req: '/foo/bar', expected: '/foo/bar' },
  { s: undefined, r: '/', strip: true, handling: 'v0', req: '/', expected: '/' },
  { s: undefined, r: '/', strip: true, handling: 'v0', req: '/a/b', expected: '/a/b' },
  // host-only routes: nothing to strip but the leading slash
  { s: '/svc', r: undefined, strip: true, handling: 'v0', req: '/a/b', expected: '/svc/a/b' },
  { s: '/svc', r: undefined, strip: true, handling: 'v0', req: '/', expected: '/svc' },
  { s: undefined, r: undefined, strip: true, handling: 'v0', req: '/a/b/', expected: '/a/b/' },
  // plain-prefix remainders and Kong's postfix sanitizing
  { s: '/svc', r: '/foo', strip: true, handling: 'v0', req: '/foobar', expected: '/svc/bar' },
  { s: '/svc', r: '/foo', strip: true, handling: 'v0', req: '/foo./x', expected: '/svc/x' },
  // normalized request: the dot-dot never reaches the service
  { s: '/svc', r: '/protected', strip: true, handling: 'v0', req: '/public/../protected/x', expected: '/svc/x' },
  { s: '/svc', r: '/p', strip: true, handling: 'v0', req: '/p/a%2Fb', expected: '/svc/a%2Fb' },
  // regex: the whole match is stripped
  { s: '/svc', r: '~/users/(?<id>\\d+)', strip: true, handling: 'v0', req: '/users/12/books', expected: '/svc/books' },
  { s: '/svc', r: '~/users/(?<id>\\d+)$', strip: true, handling: 'v0', req: '/users/12', expected: '/svc' },
  { s: '/svc', r: '~/users/(?<id>\\d+)', strip: false, handling: 'v0', req: '/users/12/books', expected: '/svc/users/12/books' },
  // v1 with a trailing-slash service path and a leading-slash remainder: one slash
  { s: '/s/', r: '/t', strip: true, handling: 'v1', req: '/t/req', expected: '/s/req' },
  { s: '/s/', r: '/t', strip: false, handling: 'v1', req: '/t/req', expected: '/s/t/req' },
];

describe('buildUpstreamPath (through the router)', () => {
  for (const row of ROWS) {
    const title = `S=${row.s ?? '(none)'} R=${row.r ?? '(host only)'} strip=${row.strip} ${row.handling} ${row.req} -> ${row.expected}`;
    it(title, () => {
      const svc = row.s === undefined ? service('svc') : service('svc', { path: row.s });
      const rt = route('r', {
        paths: row.r === undefined ? undefined : [row.r],
        hosts: row.r === undefined ? ['example.com'] : undefined,
        strip_path: row.strip,
        path_handling: row.handling,
      });
      const path = normalizePath(row.req);
      const match = createRouter([rt], new Map([['svc', svc]])).match(request({ path }));
      assert.ok(match, 'route matched');
      assert.equal(buildUpstreamPath(svc, rt, match, path), row.expected);
    });
  }
});
