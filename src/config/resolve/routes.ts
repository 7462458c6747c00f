import { checkRoute, type RouteFacts } from '../check-route.ts';
import type { EntityNode, RouteIn } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import { pcreNamedGroups } from '../route-regex.ts';
import type { HttpsRedirectStatus, Route, RouteProtocol } from '../types.ts';
import { checkName, childKeys, invalidReference, label, type ResolveContext } from './context.ts';

export interface ResolvedRoutes {
  /** For plugins that refer to a route. */
  readonly index: EntityIndex<unknown>;
  /** In file order, nested and top-level routes interleaved; `created_at` is that order. */
  readonly routes: Route[];
}

export function resolveRoutes(nodes: readonly EntityNode<RouteIn>[], services: EntityIndex<unknown>, ctx: ResolveContext): ResolvedRoutes {
  const index = new EntityIndex<unknown>('routes', ctx.sink);
  const built: { route: Omit<Route, 'created_at'>; offset: number }[] = [];
  for (const node of nodes) {
    const v = node.value;
    const entity = label('route', v.name);
    const report = ctx.reportFor(node, entity);
    let service: EntityNode<unknown> | undefined = node.parent;
    if (!service && node.usable && v.service !== undefined) {
      service = services.resolve(v.service, ['name']);
      if (!service) report(['service'], invalidReference('service', v.service));
    }
    // A nameless route is keyed by its service too: equal routes on two services are two routes.
    node.id = entityId('routes', v.id, v.name ?? `content:${service?.id ?? ''}:${ctx.content.key(childKeys(node.raw, ['plugins', 'service']))}`);
    index.addId(node, entity);
    if (v.name !== undefined) index.addKey(node, 'name', v.name, entity);
    if (!node.usable) continue;
    checkName(report, 'name', v.name);
    const facts = checkRoute(v, node.raw, report);
    built.push({ offset: node.offset, route: buildRoute(node, service?.id, facts) });
  }
  const routes = built.sort((a, b) => a.offset - b.offset).map(({ route }, i) => ({ ...route, created_at: i }));
  return { index, routes };
}

/** The route with Kong's defaults; `facts` carries what `checkRoute` derived from the raw entity. */
function buildRoute(node: EntityNode<RouteIn>, serviceId: string | undefined, facts: RouteFacts): Omit<Route, 'created_at'> {
  const v = node.value;
  return {
    id: node.id,
    ...(v.name !== undefined ? { name: v.name } : {}),
    ...(serviceId ? { service: serviceId } : {}),
    protocols: (v.protocols ?? ['http', 'https']) as RouteProtocol[],
    ...(v.methods ? { methods: v.methods } : {}),
    ...(v.hosts ? { hosts: v.hosts } : {}),
    ...(v.paths ? { paths: v.paths.map(pcreNamedGroups) } : {}),
    ...(facts.headers ? { headers: facts.headers } : {}),
    ...(v.snis ? { snis: v.snis } : {}),
    strip_path: facts.strip_path,
    preserve_host: v.preserve_host ?? false,
    regex_priority: v.regex_priority ?? 0,
    path_handling: v.path_handling ?? 'v0',
    https_redirect_status_code: (v.https_redirect_status_code ?? 426) as HttpsRedirectStatus,
    request_buffering: v.request_buffering ?? true,
    response_buffering: v.response_buffering ?? true,
    ...(v.internal ? { internal: true } : {}),
    tags: v.tags ?? [],
  };
}
