/**
 * The path sent upstream, from the service path, the route's `strip_path` / `path_handling`
 * and the normalized request path, as Kong builds it (`kong/router/utils.lua`
 * `get_upstream_uri`, and the pre-3.0 `traditional.lua` for `v1`). The query string is not
 * part of it: the caller appends `?query` (a bare `?` included, as Kong keeps it).
 *
 * With `strip_path`, the matched part of the path (the prefix, or a regex's whole match) is
 * removed, leaving the postfix R; a route matched without a path strips nothing but the
 * leading slash. Service path S defaults to `/`.
 *
 * v0 (default):
 * - S ends in `/`, strip: R empty → S (or S without its slash unless the request ended in
 *   `/`; S = `/` stays `/`); R starts with `/` → S without its slash + R; else S + R;
 * - S ends in `/`, no strip: S + request path without its leading slash;
 * - S has no trailing `/`, strip: R empty → S (+ `/` when the request, longer than `/`, ended
 *   in `/`); R starts with `/` → S + R; else S + `/` + R;
 * - S has no trailing `/`, no strip: S + request path, or just S for a request to `/`.
 *
 * v1 (deprecated in Kong): strip → S + R, dropping one slash where both have one; no strip →
 * S + request path without its leading slash (`/s` + `/fv1req` → `/sfv1req`).
 */
import type { Route, Service } from '../config/types.ts';
import type { RouteMatch } from './types.ts';

const SLASH = '/';

/** Kong's `sanitize_uri_postfix`: never let a stripped remainder start with a dot segment. */
function sanitizePostfix(postfix: string): string {
  if (postfix === '.' || postfix === '..') return '';
  if (postfix.startsWith('./')) return postfix.slice(2);
  if (postfix.startsWith('../')) return postfix.slice(3);
  return postfix;
}

function v0(strip: boolean, postfix: string, requestPath: string, base: string): string {
  if (base.endsWith(SLASH)) {
    if (!strip) return base + requestPath.slice(1);
    if (postfix === '') {
      if (base === SLASH) return SLASH;
      return requestPath.endsWith(SLASH) ? base : base.slice(0, -1);
    }
    return postfix.startsWith(SLASH) ? base.slice(0, -1) + postfix : base + postfix;
  }
  if (!strip) return requestPath === SLASH ? base : base + requestPath;
  if (postfix === '') return requestPath.length > 1 && requestPath.endsWith(SLASH) ? `${base}/` : base;
  return postfix.startsWith(SLASH) ? base + postfix : `${base}/${postfix}`;
}

function v1(strip: boolean, postfix: string, requestPath: string, base: string): string {
  if (!strip) return base + requestPath.slice(1);
  return base.endsWith(SLASH) && postfix.startsWith(SLASH) ? base.slice(0, -1) + postfix : base + postfix;
}

/** Build the upstream path (no query) for a matched request. */
export function buildUpstreamPath(service: Service, route: Route, match: RouteMatch, normalizedPath: string): string {
  const base = service.path ?? SLASH;
  const stripped = route.strip_path && match.matchedPath !== undefined && normalizedPath.startsWith(match.matchedPath);
  const postfix = sanitizePostfix(stripped ? normalizedPath.slice((match.matchedPath as string).length) : normalizedPath.slice(1));
  return route.path_handling === 'v1'
    ? v1(route.strip_path, postfix, normalizedPath, base)
    : v0(route.strip_path, postfix, normalizedPath, base);
}
