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
  hasHeaderFilter = false;
  hasBodyFilter = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly chain: RouteChain,
    private readonly pdk: RequestPdk,
    private readonly logger: Logger,
  ) {}

  async rewrite(): Promise<void> {
    if (this.chain.rewrite.length === 0) return;
    for (const plugin of this.chain.rewrite) {
      if (!this.covers(plugin)) continue;
      await this.call(plugin, 'rewrite');
      if (this.ctx.exit) {
        this.ctx.exitedBy = plugin.def.name;
        return;
      }
    }
  }

  async access(): Promise<void> {
    for (const slot of this.chain.slots) {
      const plugin = slotConfig(slot, this.ctx.consumer?.id);
      if (!plugin || !this.covers(plugin)) continue;
      this.collected.push(plugin);
      if (this.ctx.exit) continue;
      await this.call(plugin, 'access');
      if (this.ctx.exit) this.ctx.exitedBy = plugin.def.name;
    }
    this.collected.sort(byPriority);
    this.hasHeaderFilter = this.collected.some((p) => p.def.handler.header_filter !== undefined);
    this.hasBodyFilter = this.collected.some((p) => p.def.handler.body_filter !== undefined);
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
      await this.call(plugin, 'access', recheck === true ? undefined : (recheck as unknown as PhaseFn));
      if (this.ctx.exit) return;
    }
  }

  async headerFilter(): Promise<void> {
    for (const plugin of this.collected) await this.call(plugin, 'header_filter');
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

  /** After the response: errors are logged, never sent anywhere. */
  async log(): Promise<void> {
    for (const plugin of this.collected) {
      try {
        await this.call(plugin, 'log');
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

  private async call(plugin: ChainPlugin, phase: Exclude<PluginPhase, 'body_filter'>, instead?: PhaseFn): Promise<void> {
    const fn = instead ?? (plugin.def.handler[phase] as PhaseFn | undefined);
    if (!fn) return;
    this.enter(plugin, phase);
    try {
      // Most handlers are synchronous: awaiting only real promises saves a tick per plugin.
      const result = fn(this.pdk, plugin.conf);
      if (result instanceof Promise) await result;
    } catch (error) {
      // Gateway errors raised by the PDK (a body over the limit) keep their own answer.
      if (error instanceof GatewayError) throw error;
      throw new PluginFailure(plugin.def.name, phase, error);
    }
  }
}
