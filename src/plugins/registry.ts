import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { schemaIssues } from '../config/schema-errors.ts';
import type { PluginDefinition } from './contract.ts';
import { BUNDLED_PLUGINS } from './bundled/index.ts';

/**
 * The plugins this node has enabled (Kong's `plugins = bundled,...`). The declarative loader
 * asks it whether a plugin name exists and validates each instance's `config` against the
 * definition's schema, compiled once per definition at registration.
 */

export interface PluginConfigIssue {
  /** Path inside `config`, e.g. `['redis', 'port']`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** The issue is about the key itself (an unknown field). */
  readonly atKey?: boolean;
}

export type PluginConfigResult =
  | { readonly ok: true; readonly config: Record<string, unknown> }
  | { readonly ok: false; readonly issues: readonly PluginConfigIssue[] };

interface Entry {
  readonly def: PluginDefinition;
  readonly check: TypeCheck<TSchema>;
}

export class PluginRegistry {
  readonly #entries = new Map<string, Entry>();

  /** Registers a definition; a second definition with the same name is a programming error. */
  register(def: PluginDefinition): void {
    if (this.#entries.has(def.name)) throw new Error(`plugin '${def.name}' is already registered`);
    this.#entries.set(def.name, { def, check: TypeCompiler.Compile(def.schema) });
  }

  get(name: string): PluginDefinition | undefined {
    return this.#entries.get(name)?.def;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Registered names, sorted (stable output for `GET /plugins/enabled`). */
  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Runs every plugin's `shutdown` (the process stops serving); failures are ignored. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.#entries.values()].map(async ({ def }) => def.handler.shutdown?.()));
  }

  /**
   * Applies the schema's defaults to a copy of `config`, then checks it. Unknown plugin names
   * are the caller's to report (with Kong's "not enabled" message).
   */
  validateConfig(name: string, config: unknown): PluginConfigResult {
    const entry = this.#entries.get(name);
    if (!entry) return { ok: false, issues: [{ path: [], message: `plugin '${name}' not enabled` }] };
    const value = Value.Default(entry.def.schema, Value.Clone(config ?? {}));
    const issues: PluginConfigIssue[] = schemaIssues(entry.check, value);
    if (issues.length > 0) return { ok: false, issues };
    const validate = entry.def.handler.validate as ((config: unknown) => readonly string[]) | undefined;
    const problems = validate?.(value) ?? [];
    if (problems.length > 0) return { ok: false, issues: problems.map((message) => ({ path: [], message })) };
    return { ok: true, config: value as Record<string, unknown> };
  }
}

/** A registry with every bundled plugin (Kong's `plugins = bundled`). */
export function createBundledRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  for (const plugin of BUNDLED_PLUGINS) registry.register(plugin);
  return registry;
}
