import { AdminError } from './errors.ts';
import type { AdminHandler, AdminRoute } from './types.ts';

/**
 * The route table compiled once: patterns are split into segments and sorted so that a static
 * segment beats a `:param` at the same position (`/plugins/enabled` before `/plugins/:plugin`),
 * whatever order the table lists them in; the first pattern that matches and serves the method
 * wins. A path that some pattern matches but none serves with that method is a 405, a path no
 * pattern matches a 404, as Kong (lapis) answers.
 *
 * ```ts
 * const router = compileRoutes([{ method: 'GET', pattern: '/services/:service', handler }]);
 * router.match('GET', '/services/orders'); // { handler, params: { service: 'orders' } }
 * router.match('GET', '/services/a%2Fb');   // params: { service: 'a/b' }
 * ```
 */

export interface RouteMatch {
  readonly handler: AdminHandler;
  readonly params: Record<string, string>;
}

interface CompiledPattern {
  readonly pattern: string;
  readonly segments: readonly { readonly param: boolean; readonly text: string }[];
  readonly methods: Map<string, AdminHandler>;
}

export interface AdminRouter {
  /** Throws AdminError NOT_FOUND / METHOD_NOT_ALLOWED when nothing serves the request. */
  match(method: string, path: string): RouteMatch;
  /** Every pattern, sorted, for `GET /endpoints`. */
  readonly patterns: readonly string[];
}

export function compileRoutes(routes: readonly AdminRoute[]): AdminRouter {
  const byPattern = new Map<string, CompiledPattern>();
  for (const route of routes) {
    let compiled = byPattern.get(route.pattern);
    if (!compiled) {
      compiled = { pattern: route.pattern, segments: splitPath(route.pattern).map(toSegment), methods: new Map() };
      byPattern.set(route.pattern, compiled);
    }
    const method = route.method.toUpperCase();
    if (compiled.methods.has(method)) throw new Error(`admin route ${method} ${route.pattern} is registered twice`);
    compiled.methods.set(method, route.handler);
  }
  const byLength = new Map<number, CompiledPattern[]>();
  for (const compiled of byPattern.values()) {
    const list = byLength.get(compiled.segments.length) ?? [];
    list.push(compiled);
    byLength.set(compiled.segments.length, list);
  }
  for (const list of byLength.values()) list.sort(bySpecificity);

  return {
    patterns: [...byPattern.keys()].sort(),
    match(method, path) {
      const parts = splitPath(path).map(decodeSegment);
      let pathKnown = false;
      for (const compiled of byLength.get(parts.length) ?? []) {
        const params = matchSegments(compiled, parts);
        if (!params) continue;
        pathKnown = true;
        const handler = compiled.methods.get(method) ?? (method === 'HEAD' ? compiled.methods.get('GET') : undefined);
        if (handler) return { handler, params };
      }
      throw new AdminError(pathKnown ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND');
    },
  };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** `%2F` inside a segment stays part of that segment (a name may contain a slash). */
function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AdminError('NOT_FOUND');
  }
}

function toSegment(text: string) {
  return text.startsWith(':') ? { param: true, text: text.slice(1) } : { param: false, text };
}

/** Static segments first, position by position. */
function bySpecificity(a: CompiledPattern, b: CompiledPattern): number {
  for (let i = 0; i < a.segments.length; i++) {
    const diff = Number(a.segments[i]!.param) - Number(b.segments[i]!.param);
    if (diff !== 0) return diff;
  }
  return 0;
}

function matchSegments(compiled: CompiledPattern, parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = compiled.segments[i]!;
    const part = parts[i]!;
    if (segment.param) params[segment.text] = part;
    else if (segment.text !== part) return undefined;
  }
  return params;
}
