import type { TSchema } from '@sinclair/typebox';
import type { PluginInstance, Snapshot } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Hub } from '../pubsub/hub.ts';
import type { Pdk } from './pdk/types.ts';

/** Kong's request phases a plugin can join, in the order they run. */
export const PLUGIN_PHASES = ['rewrite', 'access', 'header_filter', 'body_filter', 'log'] as const;
export type PluginPhase = (typeof PLUGIN_PHASES)[number];

/** What `compile` gets besides the plugin's own config. One per snapshot. */
export interface CompileEnv {
  readonly snapshot: Snapshot;
  /** The instance being compiled (its id, scope and raw config). */
  readonly instance: PluginInstance;
  readonly logger: Logger;
  /** The process's pub/sub hub (one for the life of the process, across snapshots). */
  readonly hub: Hub;
  /**
   * A per-snapshot memo shared by every plugin instance: build an index (credentials by key,
   * consumers by name, ...) once per snapshot, not once per instance or per request.
   */
  memo<T>(key: string, build: () => T): T;
}

/**
 * A plugin's handler module (`handler.ts`), Kong's contract: a PRIORITY, a VERSION and one
 * function per phase it joins. `compile` turns the validated config into whatever the phase
 * functions want (closures, precompiled matchers, indexes); it runs once per snapshot and the
 * phases receive its result as `conf`. Without `compile`, `conf` is the validated config.
 *
 * ```ts
 * export const PRIORITY = 1250;
 * export const VERSION = '1.0.0';
 * export function compile(config: Config, env: CompileEnv) { return { keys: indexKeys(env.snapshot) }; }
 * export function access(kong: Pdk, conf: Compiled) { ... kong.response.error(401, 'Unauthorized'); }
 * ```
 */
export interface PluginHandler<Config = Record<string, unknown>, Compiled = Config> {
  readonly PRIORITY: number;
  readonly VERSION: string;
  /**
   * Checks that need no snapshot (templates parse, regexes compile), run by the config loader
   * so mistakes are reported with the file position. Returns messages; empty when valid.
   */
  readonly validate?: (config: Config) => readonly string[];
  readonly compile?: (config: Config, env: CompileEnv) => Compiled;
  readonly rewrite?: (kong: Pdk, conf: Compiled) => void | Promise<void>;
  readonly access?: (kong: Pdk, conf: Compiled) => void | Promise<void>;
  readonly header_filter?: (kong: Pdk, conf: Compiled) => void | Promise<void>;
  /**
   * Called for each chunk of the response body and once more with `eof` true (and an empty
   * chunk). Returns what to send instead; a plugin that rewrites the whole body buffers and
   * returns empty buffers until `eof`. Synchronous: streams must not stall on a plugin.
   */
  readonly body_filter?: (kong: Pdk, conf: Compiled, chunk: Buffer, eof: boolean) => Buffer;
  /** After the response went out. Must not throw; errors are logged. */
  readonly log?: (kong: Pdk, conf: Compiled) => void | Promise<void>;
  /**
   * Re-check of open subscriber streams after a reload: each stream runs its route's new chain
   * again against the request it was opened with (method, path, headers, query, client ip), in
   * a context whose effects are discarded; a plugin that answers (`kong.response.exit`) closes
   * the stream with `RECHECK_FAILED`. `true` re-runs `access` (auth, acl, ip-restriction: pure
   * decisions on the request); a function runs instead of `access` (pubsub-subscriber re-renders
   * its channels without calling its authorize hook). Absent: the plugin is skipped on
   * re-checks, as plugins with side effects must be (rate-limiting must not count them).
   *
   * ```ts
   * export const recheck = true;
   * ```
   */
  readonly recheck?: true | ((kong: Pdk, conf: Compiled) => void | Promise<void>);
  /**
   * Once, when the process stops serving: releases what the plugin keeps for the whole process
   * across snapshots (rate-limiting's Redis connections).
   */
  readonly shutdown?: () => Promise<void>;
}

/** Kong's `no_consumer` / `no_route` / `no_service` restrictions: `false` forbids that scope. */
export interface PluginScopes {
  readonly consumer?: boolean;
  readonly route?: boolean;
  readonly service?: boolean;
}

/** A registered plugin: its name, config schema and handler. */
export interface PluginDefinition {
  readonly name: string;
  readonly PRIORITY: number;
  readonly VERSION: string;
  /** TypeBox schema of `config`, with defaults; served as JSON Schema by the Admin API. */
  readonly schema: TSchema;
  readonly scopes?: PluginScopes;
  // Handlers are stored type-erased; `definePlugin` checks the pairing of schema and handler.
  readonly handler: PluginHandler<never, never>;
}

/**
 * Builds a definition from a plugin folder's parts, keeping `Config` and `Compiled` checked
 * between the schema and the handler.
 *
 * ```ts
 * import * as handler from './handler.ts';
 * import { schema } from './schema.ts';
 * export const plugin = definePlugin({ name: 'key-auth', schema, handler, scopes: { consumer: false } });
 * ```
 */
export function definePlugin<Config, Compiled>(parts: {
  name: string;
  schema: TSchema;
  handler: PluginHandler<Config, Compiled>;
  scopes?: PluginScopes;
}): PluginDefinition {
  return {
    name: parts.name,
    PRIORITY: parts.handler.PRIORITY,
    VERSION: parts.handler.VERSION,
    schema: parts.schema,
    handler: parts.handler as unknown as PluginHandler<never, never>,
    ...(parts.scopes ? { scopes: parts.scopes } : {}),
  };
}
