import { findOrderingCycle, type OrderingNode } from '../../plugins/ordering.ts';
import type { PluginRegistry } from '../../plugins/registry.ts';
import type { Report } from '../check-route.ts';
import type { EntityNode, PluginIn } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import { PLUGIN_DEFAULT_PROTOCOLS } from '../schema/plugin.ts';
import type { PluginInstance, RouteProtocol } from '../types.ts';
import { checkName, invalidReference, label, type ResolveContext } from './context.ts';

/** The indexes a plugin's `route`, `service` and `consumer` references are resolved in. */
export interface ScopeIndexes {
  readonly services: EntityIndex<unknown>;
  readonly routes: EntityIndex<unknown>;
  readonly consumers: EntityIndex<unknown>;
}

type ScopeField = 'route' | 'service' | 'consumer';
type Scope = { [F in ScopeField]?: string };

const SCOPE_FIELDS = ['route', 'service', 'consumer'] as const;
const SCOPE_REF_FIELDS = { route: ['name'], service: ['name'], consumer: ['username'] } as const;

/** Plugin instances in file order, each checked against its plugin's definition and config schema. */
export function resolvePlugins(
  nodes: readonly EntityNode<PluginIn>[],
  indexes: ScopeIndexes,
  registry: PluginRegistry,
  ctx: ResolveContext,
): PluginInstance[] {
  const index = new EntityIndex<unknown>('plugins', ctx.sink);
  const built: { plugin: PluginInstance; offset: number; node: EntityNode<PluginIn> }[] = [];
  for (const node of nodes) {
    const v = node.value;
    const entity = label('plugin', v.name);
    const report = ctx.reportFor(node, entity);
    const { scope, complete } = resolveScope(node, indexes, report);
    const cacheKey = `${String(v.name)}:${scope.route ?? ''}:${scope.service ?? ''}:${scope.consumer ?? ''}`;
    node.id = entityId('plugins', v.id, cacheKey);
    index.addId(node, entity);
    if (!node.usable) continue;
    if (v.instance_name !== undefined) {
      checkName(report, 'instance_name', v.instance_name);
      index.addKey(node, 'instance_name', v.instance_name, entity);
    }
    // A scope with a dangling reference was already reported; a duplicate on it would only be noise.
    if (complete) claimScope(node, index, cacheKey, scope, entity);
    if (!checkDefinition(node, scope, registry, report)) continue;
    const checked = registry.validateConfig(v.name, v.config ?? {});
    if (!checked.ok) {
      for (const issue of checked.issues) {
        ctx.sink.add([...node.path, 'config', ...issue.path], issue.message, { entity: entity ?? '', atKey: issue.atKey === true });
      }
      continue;
    }
    built.push({
      node,
      offset: node.offset,
      plugin: {
        id: node.id,
        name: v.name,
        ...(v.instance_name !== undefined ? { instance_name: v.instance_name } : {}),
        ...scope,
        config: checked.config,
        protocols: (v.protocols ?? [...PLUGIN_DEFAULT_PROTOCOLS]) as RouteProtocol[],
        enabled: v.enabled ?? true,
        ...(v.ordering ? { ordering: v.ordering } : {}),
        ...(v.exclude ? { exclude: resolveExclude(node, scope, indexes, report) } : {}),
        tags: v.tags ?? [],
      },
    });
  }
  rejectOrderingCycles(built, registry, ctx);
  return built.sort((a, b) => a.offset - b.offset).map((b) => b.plugin);
}

/** `ordering` constraints of all instances together must not form a cycle (it could never run). */
function rejectOrderingCycles(built: readonly { plugin: PluginInstance; node: EntityNode<PluginIn> }[], registry: PluginRegistry, ctx: ResolveContext): void {
  const nodes = built.map(({ plugin }) => ({
    name: plugin.name,
    priority: registry.get(plugin.name)?.PRIORITY ?? 0,
    before: plugin.ordering?.before?.access ?? [],
    after: plugin.ordering?.after?.access ?? [],
  }));
  const cycle = findOrderingCycle(mergeByName(nodes));
  if (!cycle) return;
  const culprit = built.find(({ plugin }) => plugin.ordering !== undefined && cycle.includes(plugin.name));
  if (culprit) ctx.reportFor(culprit.node, label('plugin', culprit.plugin.name))(['ordering'], `plugin ordering has a cycle: ${cycle.join(' → ')}`);
}

/** One graph node per plugin name, with the constraints of all its instances. */
function mergeByName(nodes: readonly OrderingNode[]): OrderingNode[] {
  const merged = new Map<string, { name: string; priority: number; before: string[]; after: string[] }>();
  for (const node of nodes) {
    const entry = merged.get(node.name) ?? { name: node.name, priority: node.priority, before: [], after: [] };
    entry.before.push(...(node.before ?? []));
    entry.after.push(...(node.after ?? []));
    merged.set(node.name, entry);
  }
  return [...merged.values()];
}

/** The ids the plugin is scoped to: its parent's, then each reference; `complete` is false if one dangles. */
function resolveScope(node: EntityNode<PluginIn>, indexes: ScopeIndexes, report: Report): { scope: Scope; complete: boolean } {
  const v = node.value;
  const scope: Scope = {};
  let complete = true;
  for (const field of SCOPE_FIELDS) {
    if (node.parentKind === field && node.parent) {
      scope[field] = node.parent.id;
      continue;
    }
    const ref = v[field];
    if (ref === undefined || !node.usable) continue;
    const target = indexes[`${field}s`].resolve(ref, SCOPE_REF_FIELDS[field]);
    if (target) scope[field] = target.id;
    else {
      complete = false;
      report([field], invalidReference(field, ref));
    }
  }
  return { scope, complete };
}

/** `exclude` references resolved to ids; excluding from a route-scoped instance is meaningless. */
function resolveExclude(node: EntityNode<PluginIn>, scope: Scope, indexes: ScopeIndexes, report: Report): { routes: string[]; services: string[] } {
  const exclude = node.value.exclude ?? {};
  if (scope.route !== undefined) report(['exclude'], 'exclude only applies to global or service-wide plugins, not to a plugin on a route');
  const resolveAll = (field: 'routes' | 'services', refs: readonly (string | { id: string })[] = []) =>
    refs.flatMap((ref, i) => {
      const target = indexes[field].resolve(ref, ['name']);
      if (target) return [target.id];
      report(['exclude', field, i], invalidReference(field === 'routes' ? 'route' : 'service', ref));
      return [];
    });
  return { routes: resolveAll('routes', exclude.routes), services: resolveAll('services', exclude.services) };
}

/** Kong's cache_key (name, route, service, consumer): one instance per plugin per scope. */
function claimScope(node: EntityNode<PluginIn>, index: EntityIndex<unknown>, cacheKey: string, scope: Scope, entity: string | undefined): void {
  const name = node.value.name;
  index.addKey(node, 'scope', cacheKey, entity, [...node.path, 'name'], (first) => {
    const on = SCOPE_FIELDS.filter((f) => scope[f] !== undefined);
    const target = on.length === 0 ? 'globally' : `on the same ${on.join(' + ')}`;
    return `uniqueness violation: duplicate plugin '${name}' ${target} (first declared at ${first}); configure each plugin once per scope`;
  });
}

/**
 * Checks what the plugin's definition allows: that it is enabled, the scopes it may apply to
 * and the plugins it is ordered against. False when the plugin is not enabled, since there is
 * no config schema to check it against then.
 */
function checkDefinition(node: EntityNode<PluginIn>, scope: Scope, registry: PluginRegistry, report: Report): boolean {
  const v = node.value;
  const def = registry.get(v.name);
  if (!def) {
    report(['name'], `plugin '${v.name}' not enabled; add it to the 'plugins' configuration property`);
    return false;
  }
  for (const field of SCOPE_FIELDS) {
    if (scope[field] !== undefined && def.scopes?.[field] === false) {
      const at = node.parentKind === field ? [] : [field];
      report(at, `plugin '${v.name}' cannot be applied to a ${field}`);
    }
  }
  for (const side of ['before', 'after'] as const) {
    v.ordering?.[side]?.access?.forEach((other, i) => {
      if (!registry.has(other)) report(['ordering', side, 'access', i], `plugin '${other}' not enabled; add it to the 'plugins' configuration property`);
      else if (other === v.name) report(['ordering', side, 'access', i], `plugin '${other}' cannot be ordered relative to itself`);
    });
  }
  return true;
}
