/**
 * The compiled router: every route turned into matchers (`matcher.ts`), sorted once by Kong's
 * priority (`priority.ts`), and indexed by host then by path (`path-index.ts`) so a lookup only
 * evaluates the matchers that could match. Results, misses included, are kept in a bounded LRU
 * keyed on exactly the request inputs some route looks at.
 *
 * Lookup: gather the candidate lists of the request's host buckets (exact host, every
 * `*.suffix` and `prefix.*` the host could satisfy, and the host-less bucket), then scan each
 * list in rank order, stopping a list as soon as its ranks cannot beat the best match so far.
 * The best (lowest) rank over all lists is the answer, which is the same answer as a linear
 * scan of all matchers in priority order.
 */
import type { Route, Service } from '../config/types.ts';
import { LruCache } from './lru.ts';
import { compileRoute, isHttpRoute, testMatcher, type Matcher } from './matcher.ts';
import { PathIndex } from './path-index.ts';
import { comparePriority } from './priority.ts';
import type { RouteMatch, RouteRequest, Router } from './types.ts';

export interface RouterOptions {
  /**
   * Entries in the match cache. Default as Kong (PR #9309): 5000, grown in steps of 5000 with
   * the number of routes, at most 100000.
   */
  readonly cacheSize?: number;
}

const CACHE_STEP = 5000;
const CACHE_MAX = 100_000;
/** Cached "no route matched", distinct from a cache miss. */
const NO_MATCH = null;

export function defaultCacheSize(routeCount: number): number {
  return Math.min(CACHE_MAX, Math.max(CACHE_STEP, Math.ceil(routeCount / CACHE_STEP) * CACHE_STEP));
}

class HostIndex {
  readonly exact = new Map<string, PathIndex>();
  readonly suffix = new Map<string, PathIndex>();
  readonly prefix = new Map<string, PathIndex>();
  readonly hostless = new PathIndex();

  private bucket(map: Map<string, PathIndex>, key: string): PathIndex {
    let index = map.get(key);
    if (!index) map.set(key, (index = new PathIndex()));
    return index;
  }

  add(matcher: Matcher): void {
    if (matcher.hosts.length === 0) {
      this.hostless.add(matcher);
      return;
    }
    for (const pattern of matcher.hosts) {
      if (pattern.kind === 'exact') this.bucket(this.exact, pattern.host).add(matcher);
      else if (pattern.kind === 'suffix') this.bucket(this.suffix, pattern.suffix).add(matcher);
      else this.bucket(this.prefix, pattern.prefix).add(matcher);
    }
  }

  seal(): void {
    for (const map of [this.exact, this.suffix, this.prefix]) for (const index of map.values()) index.seal();
    this.hostless.seal();
  }

  collect(host: string, segment: string, out: Matcher[][]): void {
    this.exact.get(host)?.collect(segment, out);
    if (this.suffix.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        this.suffix.get(host.slice(dot))?.collect(segment, out);
      }
    }
    if (this.prefix.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        this.prefix.get(host.slice(0, dot + 1))?.collect(segment, out);
      }
    }
    this.hostless.collect(segment, out);
  }
}

function firstSegment(path: string): string {
  const slash = path.indexOf('/', 1);
  return slash < 0 ? path.slice(1) : path.slice(1, slash);
}

/** Build the router for one config snapshot. Throws on an invalid route path or regex. */
export function createRouter(
  routes: readonly Route[],
  services: ReadonlyMap<string, Service>,
  options: RouterOptions = {},
): Router {
  const matchers = routes
    .filter(isHttpRoute)
    .flatMap((route) => compileRoute(route, route.service === undefined ? undefined : services.get(route.service)));
  matchers.sort((a, b) => comparePriority(a.priority, b.priority));
  matchers.forEach((matcher, rank) => (matcher.rank = rank));

  const index = new HostIndex();
  for (const matcher of matchers) index.add(matcher);
  index.seal();

  // The cache key holds only what some route can look at, so unrelated inputs don't split it.
  const usesPort = matchers.some((m) => m.hosts.some((h) => h.port !== undefined));
  const usesSni = matchers.some((m) => m.snis.length > 0);
  const headerNames = [...new Set(matchers.flatMap((m) => m.headers.map((h) => h.name)))].sort();
  const cache = new LruCache<string, RouteMatch | typeof NO_MATCH>(options.cacheSize ?? defaultCacheSize(routes.length));
  const scratch: Matcher[][] = [];

  function cacheKey(req: RouteRequest): string {
    let key = `${req.method}\n${req.scheme}\n${req.host}\n${usesPort ? req.port : ''}\n${usesSni ? (req.sni ?? '') : ''}\n${req.path}`;
    // Internal and client requests see disjoint route sets.
    if (req.internal === true) key += '\n\u0000internal';
    for (const name of headerNames) {
      const value = req.headers[name];
      key += value === undefined ? '\n\u0000' : `\n${typeof value === 'string' ? value : value.join('\u0001')}`;
    }
    return key;
  }

  function find(req: RouteRequest): RouteMatch | undefined {
    scratch.length = 0;
    index.collect(req.host, firstSegment(req.path), scratch);
    let bestRank = Infinity;
    let best: RouteMatch | undefined;
    for (const list of scratch) {
      for (const matcher of list) {
        if (matcher.rank >= bestRank) break;
        // Internal routes are X-Accel-Redirect targets, and the only ones: invisible to client
        // requests, and a redirect never lands on a public route.
        if ((matcher.route.internal === true) !== (req.internal === true)) continue;
        const match = testMatcher(matcher, req);
        if (match) {
          bestRank = matcher.rank;
          best = match;
          break;
        }
      }
    }
    scratch.length = 0;
    return best;
  }

  return {
    size: routes.length,
    match(req: RouteRequest): RouteMatch | undefined {
      const key = cacheKey(req);
      const cached = cache.get(key);
      if (cached !== undefined) return cached ?? undefined;
      const result = find(req);
      cache.set(key, result ?? NO_MATCH);
      return result;
    },
  };
}
