import type { Logger } from '../observability/logger.ts';
import { byPriority, slotConfig, type ChainPlugin, type RouteChain } from '../plugins/chain.ts';
import type { PluginPhase } from '../plugins/contract.ts';
import type { RequestPdk } from '../plugins/pdk/request-pdk.ts';
import type { RequestContext } from './context.ts';
import { GatewayError } from './errors.ts';

/** A plugin threw: answered 500, logged with the plugin's name and phase. */
export class PluginFailure extends Error {
  override readonly name = 'PluginFailure';
  constructor(
    readonly plugin: string,
    readonly phase: PluginPhase,
    cause: unknown,
  ) {
    super(`plugin '${plugin}' failed in ${phase}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

type PhaseFn = (kong: RequestPdk, conf: unknown) => void | Promise<void>;

/**
 * Runs one request's plugins through the phases. `access` decides which configs apply
 * (consumer-scoped ones once a plugin has authenticated) and collects them; the response
 * phases then run the collected plugins in PRIORITY order, as Kong does. A plugin that answers
 * (`kong.response.exit`) stops the access handlers after it, but the remaining plugins are
 * still collected, so their header_filter and log phases see the answer (Kong's behaviour:
 * cors headers and logging also happen on a 401).
 */
export class PluginRun {
  private collected: ChainPlugin[] = [];
  /** Whether a collected plugin has a log phase (kept as they are collected: read per request). */
  private logs = false;
  hasHeaderFilter = false;
  hasBodyFilter = false;
  /**
   * Whether a collected plugin runs after access (header_filter, body_filter or log); known
   * once access is done. Without one, nothing reads the response, so it need not be held.
   */
  hasResponsePhase = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly chain: RouteChain,
    private readonly pdk: RequestPdk,
    private readonly logger: Logger,
  ) {}

  /** Global plugins' rewrite; undefined (nothing to await) when none is async. */
  rewrite(): Promise<void> | undefined {
    return this.chain.rewrite.length === 0 ? undefined : this.rewriteFrom(0);
  }

  private rewriteFrom(start: number): Promise<void> | undefined {
    const plugins = this.chain.rewrite;
    for (let i = start; i < plugins.length; i++) {
      const plugin = plugins[i]!;
      if (!this.covers(plugin)) continue;
      const pending = this.call(plugin, 'rewrite');
      if (pending) return pending.then(() => (this.rewrote(plugin) ? undefined : this.rewriteFrom(i + 1)));
      if (this.rewrote(plugin)) return undefined;
    }
    return undefined;
  }

  /** Whether `plugin` answered in rewrite (the rest of rewrite is skipped). */
  private rewrote(plugin: ChainPlugin): boolean {
    if (!this.ctx.exit) return false;
    this.ctx.exitedBy = plugin.def.name;
    return true;
  }

  /**
   * Collects the plugins and runs their access handlers in order. Synchronous (undefined back)
   * as long as every handler is: a chain of synchronous plugins costs no promise; the first
   * handler that returns one continues the chain once it settles.
   */
  access(): Promise<void> | undefined {
    return this.accessFrom(0);
  }

  private accessFrom(start: number): Promise<void> | undefined {
    const slots = this.chain.slots;
    for (let i = start; i < slots.length; i++) {
      const plugin = slotConfig(slots[i]!, this.ctx.consumer?.id);
      if (!plugin || !this.covers(plugin)) continue;
      this.collected.push(plugin);
      if (plugin.def.handler.log !== undefined) this.logs = true;
      if (this.ctx.exit) continue;
      const pending = this.call(plugin, 'access');
      if (pending) {
        return pending.then(() => {
          if (this.ctx.exit) this.ctx.exitedBy = plugin.def.name;
          return this.accessFrom(i + 1);
        });
      }
      if (this.ctx.exit) this.ctx.exitedBy = plugin.def.name;
    }
    sortByPriority(this.collected);
    for (const plugin of this.collected) {
      const handler = plugin.def.handler;
      if (handler.header_filter !== undefined) this.hasHeaderFilter = true;
      if (handler.body_filter !== undefined) this.hasBodyFilter = true;
    }
    this.hasResponsePhase = this.hasHeaderFilter || this.hasBodyFilter || this.logs;
    return undefined;
  }

  /**
   * A reload's re-check of an open stream: only plugins that declare `recheck` run (`true`:
   * their `access`), until one answers. Nothing is collected: no response phase follows.
   */
  async recheck(): Promise<void> {
    for (const slot of this.chain.slots) {
      const plugin = slotConfig(slot, this.ctx.consumer?.id);
      const recheck = plugin?.def.handler.recheck;
      if (!plugin || recheck === undefined || !this.covers(plugin)) continue;
      const pending = this.call(plugin, 'access', recheck === true ? undefined : (recheck as unknown as PhaseFn));
      if (pending) await pending;
      if (this.ctx.exit) return;
    }
  }

  async headerFilter(): Promise<void> {
    for (const plugin of this.collected) {
      const pending = this.call(plugin, 'header_filter');
      if (pending) await pending;
    }
  }

  /** Runs a body chunk through every body_filter in turn. */
  bodyFilter(chunk: Buffer, eof: boolean): Buffer {
    for (const plugin of this.collected) {
      const filter = plugin.def.handler.body_filter as ((kong: RequestPdk, conf: unknown, chunk: Buffer, eof: boolean) => Buffer) | undefined;
      if (!filter) continue;
      this.enter(plugin, 'body_filter');
      try {
        chunk = filter(this.pdk, plugin.conf, chunk, eof);
      } catch (error) {
        throw new PluginFailure(plugin.def.name, 'body_filter', error);
      }
    }
    return chunk;
  }

  /** After the response: errors are logged, never sent anywhere. Undefined when no plugin has a log phase. */
  log(): Promise<void> | undefined {
    return this.hasLog ? this.runLog() : undefined;
  }

  /** Whether a plugin that ran has a log phase (a stream outliving its request keeps the run only then). */
  get hasLog(): boolean {
    return this.logs;
  }

  private async runLog(): Promise<void> {
    for (const plugin of this.collected) {
      try {
        const pending = this.call(plugin, 'log');
        if (pending) await pending;
      } catch (error) {
        this.logger.error({ err: error, plugin: plugin.def.name, request_id: this.ctx.id, code: 'PLUGIN_LOG_FAILED' }, 'plugin log phase failed');
      }
    }
  }

  private covers(plugin: ChainPlugin): boolean {
    return this.ctx.scheme === 'https' ? plugin.onHttps : plugin.onHttp;
  }

  private enter(plugin: ChainPlugin, phase: PluginPhase): void {
    this.pdk.phase = phase;
    this.pdk.plugin = plugin.def.name;
  }

  /**
   * Runs one handler. Most are synchronous: then so is this (undefined back, nothing to await),
   * which saves a promise and a tick per plugin and phase; a handler's promise comes back
   * with its failure mapped the same way as a throw.
   */
  private call(plugin: ChainPlugin, phase: Exclude<PluginPhase, 'body_filter'>, instead?: PhaseFn): Promise<void> | undefined {
    const fn = instead ?? (plugin.def.handler[phase] as PhaseFn | undefined);
    if (!fn) return undefined;
    this.enter(plugin, phase);
    let result: void | Promise<void>;
    try {
      result = fn(this.pdk, plugin.conf);
    } catch (error) {
      throw failure(plugin, phase, error);
    }
    if (!(result instanceof Promise)) return undefined;
    return result.catch((error: unknown) => {
      throw failure(plugin, phase, error);
    });
  }
}

/** Gateway errors raised by the PDK (a body over the limit) keep their own answer. */
function failure(plugin: ChainPlugin, phase: PluginPhase, error: unknown): unknown {
  return error instanceof GatewayError ? error : new PluginFailure(plugin.def.name, phase, error);
}

/**
 * `plugins.sort(byPriority)` without Array#sort's per-call work arrays (most of a short chain's
 * allocation per request): an insertion sort, stable as #sort is, and nothing to do when access
 * order already is priority order, the usual case.
 */
function sortByPriority(plugins: ChainPlugin[]): void {
  for (let i = 1; i < plugins.length; i++) {
    const plugin = plugins[i]!;
    let j = i - 1;
    if (byPriority(plugins[j]!, plugin) <= 0) continue;
    while (j >= 0 && byPriority(plugins[j]!, plugin) > 0) {
      plugins[j + 1] = plugins[j]!;
      j--;
    }
    plugins[j + 1] = plugin;
  }
}
