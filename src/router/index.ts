/** The router's public surface: build a router, normalize paths, build upstream paths. */
export { createRouter, defaultCacheSize, type RouterOptions } from './router.ts';
export { normalizePath, splitRequestTarget, type RequestTarget } from './normalize.ts';
export { buildUpstreamPath } from './upstream-path.ts';
export type { RouteMatch, RouteRequest, Router, UriCaptures } from './types.ts';
