import type { PluginInstance, Route, Service, Snapshot } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Hub } from '../pubsub/hub.ts';
import type { CompileEnv, PluginDefinition } from './contract.ts';
import { accessOrder } from './ordering.ts';
import type { PluginRegistry } from './registry.ts';

/** One compiled plugin instance: its definition and the result of `compile`. */
export interface ChainPlugin {
  readonly def: PluginDefinition;
  readonly instance: PluginInstance;
  readonly conf: unknown;
  /** Whether the instance's `protocols` cover plain HTTP / HTTPS requests. */
  readonly onHttp: boolean;
  readonly onHttps: boolean;
}

/**
 * Kong's scope precedence (`plugins_iterator.lua`), most specific first. With a consumer
 * known, its configs compete with the others by these levels; exactly one config wins.
 */
const LEVEL = { routeServiceConsumer: 1, routeConsumer: 2, serviceConsumer: 3, routeService: 4, consumer: 5, route: 6, service: 7, global: 8 } as const;

/** Everything configured for one plugin name on one route. */
export interface ChainSlot {
  readonly def: PluginDefinition;
  /** The winner when no consumer is known (or the consumer has no better config). */
  readonly general?: ChainPlugin;
  /** Consumer id → its config, only where it beats `general`. */
  readonly byConsumer?: ReadonlyMap<string, ChainPlugin>;
}

/** The plugins of one route: slots in access order, plus the global ones that join `rewrite`. */
export interface RouteChain {
  readonly empty: boolean;
  readonly slots: readonly ChainSlot[];
  /** Kong runs only global plugins in `rewrite` (no route is known there in Kong). */
  readonly rewrite: readonly ChainPlugin[];
}

const EMPTY_CHAIN: RouteChain = { empty: true, slots: [], rewrite: [] };

/** The config that applies for `consumerId` (undefined: not authenticated). */
export function slotConfig(slot: ChainSlot, consumerId: string | undefined): ChainPlugin | undefined {
  return (consumerId !== undefined ? slot.byConsumer?.get(consumerId) : undefined) ?? slot.general;
}

/**
 * All plugin instances of a snapshot, compiled once, and the resolved chain per route
 * (cached: a route's chain is computed on its first request).
 */
export class PluginChain {
  private readonly compiled: ChainPlugin[];
  private readonly perRoute = new Map<string, RouteChain>();

  private constructor(compiled: ChainPlugin[]) {
    this.compiled = compiled;
  }

  /** Compiles every enabled instance. A `compile` that throws fails the whole snapshot. */
  static build(snapshot: Snapshot, registry: PluginRegistry, logger: Logger, hub: Hub): PluginChain {
    const memo = new Map<string, unknown>();
    const compiled: ChainPlugin[] = [];
    for (const instance of snapshot.plugins) {
      if (!instance.enabled) continue;
      const def = registry.get(instance.name);
      if (!def) throw new Error(`plugin '${instance.name}' not enabled; add it to the 'plugins' configuration property`);
      const env: CompileEnv = {
        snapshot,
        instance,
        logger: logger.child({ plugin: instance.name }),
        hub,
        memo: <T>(key: string, build: () => T): T => {
          if (!memo.has(key)) memo.set(key, build());
          return memo.get(key) as T;
        },
      };
      const compile = def.handler.compile as ((config: unknown, env: CompileEnv) => unknown) | undefined;
      let conf: unknown = instance.config;
      try {
        if (compile) conf = compile(instance.config, env);
      } catch (error) {
        throw new Error(`plugin '${instance.name}' (${instance.id}): ${(error as Error).message}`, { cause: error });
      }
      compiled.push({ def, instance, conf, onHttp: instance.protocols.includes('http'), onHttps: instance.protocols.includes('https') });
    }
    return new PluginChain(compiled);
  }

  get size(): number {
    return this.compiled.length;
  }

  forRoute(route: Route, service: Service | undefined): RouteChain {
    let chain = this.perRoute.get(route.id);
    if (!chain) {
      chain = this.resolve(route, service?.id);
      this.perRoute.set(route.id, chain);
    }
    return chain;
  }

  private resolve(route: Route, serviceId: string | undefined): RouteChain {
    const byName = new Map<string, { def: PluginDefinition; candidates: { plugin: ChainPlugin; level: number }[] }>();
    for (const plugin of this.compiled) {
      const level = levelOn(plugin.instance, route.id, serviceId);
      if (level === undefined) continue;
      const entry = byName.get(plugin.def.name) ?? { def: plugin.def, candidates: [] };
      entry.candidates.push({ plugin, level });
      byName.set(plugin.def.name, entry);
    }
    if (byName.size === 0) return EMPTY_CHAIN;

    const slots = new Map<string, ChainSlot>();
    for (const [name, { def, candidates }] of byName) slots.set(name, slotFrom(def, candidates));
    const order = accessOrder(
      [...byName.values()].map(({ def, candidates }) => ({
        name: def.name,
        priority: def.PRIORITY,
        before: candidates.flatMap((c) => c.plugin.instance.ordering?.before?.access ?? []),
        after: candidates.flatMap((c) => c.plugin.instance.ordering?.after?.access ?? []),
      })),
    );
    const rewrite = [...slots.values()]
      .map((slot) => slot.general)
      .filter((p): p is ChainPlugin => p !== undefined && isGlobal(p.instance) && p.def.handler.rewrite !== undefined)
      .sort(byPriority);
    return { empty: false, slots: order.map((name) => slots.get(name) as ChainSlot), rewrite };
  }
}

/** Higher PRIORITY first; equal priorities by name, so the order is deterministic. */
export function byPriority(a: { def: PluginDefinition }, b: { def: PluginDefinition }): number {
  return b.def.PRIORITY - a.def.PRIORITY || a.def.name.localeCompare(b.def.name);
}

function isGlobal(instance: PluginInstance): boolean {
  return instance.route === undefined && instance.service === undefined && instance.consumer === undefined;
}

/** The precedence level of `instance` on this route, or undefined when it does not apply here. */
function levelOn(instance: PluginInstance, routeId: string, serviceId: string | undefined): number | undefined {
  if (instance.route !== undefined && instance.route !== routeId) return undefined;
  if (instance.service !== undefined && instance.service !== serviceId) return undefined;
  if (instance.exclude?.routes.includes(routeId)) return undefined;
  if (serviceId !== undefined && instance.exclude?.services.includes(serviceId)) return undefined;
  const r = instance.route !== undefined;
  const s = instance.service !== undefined;
  if (instance.consumer !== undefined) return r && s ? LEVEL.routeServiceConsumer : r ? LEVEL.routeConsumer : s ? LEVEL.serviceConsumer : LEVEL.consumer;
  return r && s ? LEVEL.routeService : r ? LEVEL.route : s ? LEVEL.service : LEVEL.global;
}

function slotFrom(def: PluginDefinition, candidates: readonly { plugin: ChainPlugin; level: number }[]): ChainSlot {
  let general: { plugin: ChainPlugin; level: number } | undefined;
  for (const c of candidates) if (c.plugin.instance.consumer === undefined && (!general || c.level < general.level)) general = c;
  const best = new Map<string, { plugin: ChainPlugin; level: number }>();
  for (const c of candidates) {
    const consumer = c.plugin.instance.consumer;
    if (consumer === undefined || (general && general.level < c.level)) continue;
    const current = best.get(consumer);
    if (!current || c.level < current.level) best.set(consumer, c);
  }
  return {
    def,
    ...(general ? { general: general.plugin } : {}),
    ...(best.size > 0 ? { byConsumer: new Map([...best].map(([id, c]) => [id, c.plugin])) } : {}),
  };
}
