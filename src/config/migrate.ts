/**
 * Kong's on-the-fly migration of `_format_version` "1.1"/"2.1" files to "3.0": before 3.0 a
 * route path was a regex whenever it contained anything but unreserved characters; 3.0
 * requires the `~` marker. Kong migrates top-level routes only; Sluice also migrates routes
 * nested under services, which old files commonly use.
 */

const PLAIN_PATH = /^[a-zA-Z0-9.\-_~/%]*$/;

export function migrateRoutePaths(root: Record<string, unknown>): void {
  migrateList(root.routes);
  if (Array.isArray(root.services)) {
    for (const service of root.services) {
      if (isRecord(service)) migrateList(service.routes);
    }
  }
}

function migrateList(routes: unknown): void {
  if (!Array.isArray(routes)) return;
  for (const route of routes) {
    if (!isRecord(route) || !Array.isArray(route.paths)) continue;
    route.paths = route.paths.map((p: unknown) => (typeof p === 'string' && !PLAIN_PATH.test(p) ? `~${p}` : p));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
