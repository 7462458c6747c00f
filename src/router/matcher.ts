/**
 * One compiled matcher: a route (or, for a route with several paths, one group of its paths)
 * with every criterion turned into a ready-to-run test at build time. `test` checks all of
 * them for a request, cheapest first, and answers the `RouteMatch` or `undefined`.
 *
 * Criteria (Kong `traditional_compatible`, `kong/router/transform.lua`):
 * - methods: exact, upper-case;
 * - hosts: see `host-pattern.ts`;
 * - headers: every configured name must be present with one of its values; plain values are
 *   compared case-insensitively, `~*regex` values are unanchored case-insensitive searches,
 *   and any one of a repeated header's values may satisfy them;
 * - snis: only checked when the request is https (Kong's `net.protocol != "https" || ...`);
 * - protocols: a route whose only protocol is `https` matches any scheme, and a plain http
 *   request then gets `httpsRedirect: true`; otherwise the request scheme must be one of the
 *   route's protocols (`grpc`/`ws` count as http, `grpcs`/`wss` as https);
 * - paths: plain = string prefix of the normalized path (`/foo` matches `/foobar`, as Kong);
 *   regex = anchored at the start of the normalized path, named groups become captures.
 */
import type { Route, RouteProtocol, Service } from '../config/types.ts';
import { hostMatches, parseHostPattern, type HostPattern } from './host-pattern.ts';
import { normalizePath } from './normalize.ts';
import { computePriority, type Priority } from './priority.ts';
import type { RouteMatch, RouteRequest, UriCaptures } from './types.ts';
import { compileHeaderRegex, compileRouteRegex } from '../config/route-regex.ts';

interface HeaderTest {
  readonly name: string;
  /** Lower-cased plain values. */
  readonly values: ReadonlySet<string>;
  readonly regexes: readonly RegExp[];
}

export interface Matcher {
  readonly route: Route;
  readonly service: Service | undefined;
  readonly priority: Priority;
  /** Position in the router's global priority order; set once when the router is built. */
  rank: number;
  readonly methods: ReadonlySet<string> | undefined;
  readonly hosts: readonly HostPattern[];
  readonly headers: readonly HeaderTest[];
  readonly snis: readonly HostPattern[];
  /** Normalized plain prefixes of this group (all the same length); empty for regex groups. */
  readonly prefixes: readonly string[];
  readonly regexes: readonly RegExp[];
  /**
   * First-segment keys for the path index, one per path: `closed` when the path's first segment
   * is complete (`/users/...`), open when the request's first segment only has to start with
   * `key`. Empty when the matcher cannot be indexed by path (no paths, or a regex without a
   * literal start).
   */
  readonly pathKeys: readonly PathKey[];
  /** Schemes the route accepts; `undefined` for an https-only route (any scheme, redirect http). */
  readonly schemes: ReadonlySet<'http' | 'https'> | undefined;
  /**
   * Precomputed answers, one per prefix (captures are always empty), or the single answer of a
   * path-less route.
   */
  readonly prefixMatches: readonly RouteMatch[];
}

export interface PathKey {
  readonly closed: boolean;
  readonly key: string;
}

const EMPTY_CAPTURES: UriCaptures = Object.freeze({ unnamed: Object.freeze([]), named: Object.freeze({}) });

const SCHEME_OF: Partial<Record<RouteProtocol, 'http' | 'https'>> = {
  http: 'http',
  grpc: 'http',
  ws: 'http',
  https: 'https',
  grpcs: 'https',
  wss: 'https',
};

/** Whether the route belongs on the HTTP router at all (not a tcp/tls/udp stream route). */
export function isHttpRoute(route: Route): boolean {
  return route.protocols.length === 0 || route.protocols.some((p) => SCHEME_OF[p] !== undefined);
}

/** Route paths written with non-ASCII characters are compared as their UTF-8 escapes. */
function normalizeRoutePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  const ascii = path.replace(/[^\x00-\x7f]+/gu, (chars) => encodeURIComponent(chars));
  return normalizePath(ascii);
}

/** Compiled exactly as the config loader validated it (PCRE spellings translated). */
function compileRegexPath(route: Route, path: string): RegExp {
  try {
    return compileRouteRegex(path);
  } catch (error) {
    throw new Error(`route ${route.name ?? route.id}: invalid regex path "${path}": ${(error as Error).message}`);
  }
}

/** Index key of a literal path start (a prefix, or a regex's literal start). */
function pathKeyOf(literal: string): PathKey | undefined {
  if (!literal.startsWith('/')) return undefined;
  const slash = literal.indexOf('/', 1);
  return slash >= 0 ? { closed: true, key: literal.slice(1, slash) } : { closed: false, key: literal.slice(1) };
}

const QUANTIFIER = new Set(['?', '*', '+', '{']);
const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/**
 * The literal text every match of a `~` regex path must start with, so regex routes can be
 * indexed by first segment like prefixes. Conservative: stops at the first metacharacter or
 * quantified character, and gives up on any `|` (alternation could escape the prefix).
 */
export function regexLiteralStart(source: string): string {
  if (source.includes('|')) return '';
  let literal = '';
  let i = 0;
  while (i < source.length) {
    let char = source[i] as string;
    let width = 1;
    if (char === '\\') {
      const next = source[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) break;
      char = next;
      width = 2;
    } else if (META.has(char)) {
      break;
    }
    if (QUANTIFIER.has(source[i + width] ?? '')) break;
    literal += char;
    i += width;
  }
  return literal;
}

function compileHeaders(route: Route): HeaderTest[] {
  const tests: HeaderTest[] = [];
  for (const [rawName, rawValues] of Object.entries(route.headers ?? {})) {
    const values = new Set<string>();
    const regexes: RegExp[] = [];
    for (const value of rawValues) {
      if (value.startsWith('~*')) {
        try {
          regexes.push(compileHeaderRegex(value));
        } catch (error) {
          throw new Error(`route ${route.name ?? route.id}: invalid header regex "${value}": ${(error as Error).message}`);
        }
      } else {
        values.add(value.toLowerCase());
      }
    }
    tests.push({ name: rawName.toLowerCase(), values, regexes });
  }
  return tests;
}

function compileSchemes(protocols: readonly RouteProtocol[]): ReadonlySet<'http' | 'https'> | undefined {
  if (protocols.length === 1 && protocols[0] === 'https') return undefined;
  if (protocols.length === 0) return new Set(['http', 'https']);
  const schemes = new Set<'http' | 'https'>();
  for (const protocol of protocols) {
    const scheme = SCHEME_OF[protocol];
    if (scheme) schemes.add(scheme);
  }
  return schemes;
}

/** Kong's split: one group per distinct prefix length, one for all regexes, in first-seen order. */
function groupPaths(route: Route): { regex: boolean; paths: string[]; firstIndex: number }[] {
  const groups = new Map<string, { regex: boolean; paths: string[]; firstIndex: number }>();
  (route.paths ?? []).forEach((raw, index) => {
    const regex = raw.startsWith('~');
    let path: string;
    try {
      path = regex ? raw : normalizeRoutePath(raw);
    } catch {
      throw new Error(`route ${route.name ?? route.id}: invalid path "${raw}"`);
    }
    const key = regex ? 'regex' : String(path.length);
    const group = groups.get(key);
    if (group) {
      if (!group.paths.includes(path)) group.paths.push(path);
    } else {
      groups.set(key, { regex, paths: [path], firstIndex: index });
    }
  });
  return [...groups.values()];
}

function parseForRoute(route: Route, host: string): HostPattern {
  try {
    return parseHostPattern(host);
  } catch (error) {
    throw new Error(`route ${route.name ?? route.id}: ${(error as Error).message}`);
  }
}

/** Compile one route into its matchers (one per path group, or one when it has no paths). */
export function compileRoute(route: Route, service: Service | undefined): Matcher[] {
  const methods = route.methods && route.methods.length > 0 ? new Set(route.methods.map((m) => m.toUpperCase())) : undefined;
  const rawHosts = route.hosts ?? [];
  const hosts = rawHosts.map((host) => parseForRoute(route, host));
  const headers = compileHeaders(route);
  const snis = (route.snis ?? []).map((sni) => parseForRoute(route, sni));
  const schemes = compileSchemes(route.protocols);
  const groups = groupPaths(route);
  const shared = { hasMethods: methods !== undefined, hosts: rawHosts, headerCount: headers.length, hasSnis: snis.length > 0 };
  const common = { route, service, methods, hosts, headers, snis, schemes };

  if (groups.length === 0) {
    const priority = computePriority({
      ...shared,
      hasPaths: false,
      regex: false,
      regexPriority: 0,
      pathLength: 0,
      createdAt: route.created_at,
      id: route.id,
      pathIndex: 0,
    });
    const pathless = Object.freeze(withService({ route, uriCaptures: EMPTY_CAPTURES }, service));
    return [makeMatcher(common, priority, [], [], [pathless], [])];
  }
  return groups.map((group) => {
    const priority = computePriority({
      ...shared,
      hasPaths: true,
      regex: group.regex,
      regexPriority: route.regex_priority,
      pathLength: group.regex ? 0 : (group.paths[0] as string).length,
      createdAt: route.created_at,
      id: route.id,
      pathIndex: group.firstIndex,
    });
    const prefixes = group.regex ? [] : group.paths;
    const regexes = group.regex ? group.paths.map((p) => compileRegexPath(route, p)) : [];
    const prefixMatches = prefixes.map((matchedPath) => Object.freeze(withService({ route, matchedPath, uriCaptures: EMPTY_CAPTURES }, service)));
    const keys = group.regex ? group.paths.map((p) => pathKeyOf(regexLiteralStart(p.slice(1)))) : prefixes.map(pathKeyOf);
    const pathKeys = keys.every((k) => k !== undefined) ? (keys as PathKey[]) : [];
    return makeMatcher(common, priority, prefixes, regexes, prefixMatches, pathKeys);
  });
}

type CommonFields = Pick<Matcher, 'route' | 'service' | 'methods' | 'hosts' | 'headers' | 'snis' | 'schemes'>;

/** One object shape for every matcher, so the per-request `testMatcher` stays monomorphic. */
function makeMatcher(
  common: CommonFields,
  priority: Priority,
  prefixes: readonly string[],
  regexes: readonly RegExp[],
  prefixMatches: readonly RouteMatch[],
  pathKeys: readonly PathKey[],
): Matcher {
  return {
    route: common.route,
    service: common.service,
    priority,
    rank: -1,
    methods: common.methods,
    hosts: common.hosts,
    headers: common.headers,
    snis: common.snis,
    prefixes,
    regexes,
    schemes: common.schemes,
    prefixMatches,
    pathKeys,
  };
}

function withService(match: Omit<RouteMatch, 'service'>, service: Service | undefined): RouteMatch {
  return service ? { ...match, service } : match;
}

function headerSatisfied(test: HeaderTest, value: string | readonly string[] | undefined): boolean {
  if (value === undefined) return false;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    if (test.values.size > 0 && test.values.has(v.toLowerCase())) return true;
    for (const regex of test.regexes) if (regex.test(v)) return true;
  }
  return false;
}

function anyHost(patterns: readonly HostPattern[], host: string | undefined, port: number | undefined): boolean {
  if (host === undefined) return false;
  for (const pattern of patterns) if (hostMatches(pattern, host, port)) return true;
  return false;
}

function regexCaptures(m: RegExpExecArray): UriCaptures {
  const unnamed = Array.from(m, (group) => group ?? '');
  const named: Record<string, string> = {};
  if (m.groups) for (const [name, value] of Object.entries(m.groups)) if (value !== undefined) named[name] = value;
  return Object.freeze({ unnamed: Object.freeze(unnamed), named: Object.freeze(named) });
}

/** Run every criterion of `matcher` against the request; cheapest checks first. */
export function testMatcher(matcher: Matcher, req: RouteRequest): RouteMatch | undefined {
  if (matcher.methods && !matcher.methods.has(req.method)) return undefined;
  if (matcher.schemes && !matcher.schemes.has(req.scheme)) return undefined;
  if (matcher.hosts.length > 0 && !anyHost(matcher.hosts, req.host, req.port)) return undefined;
  if (matcher.snis.length > 0 && req.scheme === 'https' && !anyHost(matcher.snis, req.sni?.toLowerCase(), undefined)) return undefined;
  for (const header of matcher.headers) if (!headerSatisfied(header, req.headers[header.name])) return undefined;

  const redirect = matcher.schemes === undefined && req.scheme === 'http';
  let match: RouteMatch | undefined;
  if (matcher.prefixes.length > 0) {
    const prefixes = matcher.prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      if (req.path.startsWith(prefixes[i] as string)) {
        match = matcher.prefixMatches[i];
        break;
      }
    }
    if (!match) return undefined;
  } else if (matcher.regexes.length > 0) {
    for (const regex of matcher.regexes) {
      const m = regex.exec(req.path);
      if (m) {
        match = withService({ route: matcher.route, matchedPath: m[0], uriCaptures: regexCaptures(m) }, matcher.service);
        break;
      }
    }
    if (!match) return undefined;
  } else {
    match = matcher.prefixMatches[0];
  }
  return redirect && match ? { ...match, httpsRedirect: true } : match;
}
