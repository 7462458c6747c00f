import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { definePlugin, type PluginDefinition, type PluginHandler } from './contract.ts';
import { BUNDLED_PLUGINS } from './bundled/index.ts';
import { PluginRegistry } from './registry.ts';

/** A plugin named in `plugins` that cannot be loaded: a start-up error, never a silent skip. */
export class PluginLoadError extends Error {
  override readonly name = 'PluginLoadError';
}

const EXTENSIONS = ['ts', 'mts', 'js', 'mjs'];

/**
 * Kong's `plugins = bundled,my-plugin` with `plugins_path`: `bundled` adds every bundled
 * plugin, any other name is a folder `<plugins_path>/<name>/` with the same contract as a
 * bundled one — an `index` exporting `plugin` (from `definePlugin`), or a `schema` exporting
 * `schema` plus a `handler` exporting PRIORITY, VERSION and phase functions.
 *
 * ```ts
 * const registry = await loadPlugins(['bundled', 'header-stamp'], './examples/plugins');
 * ```
 */
export async function loadPlugins(names: readonly string[], pluginsPath?: string): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const name of names) {
    if (name === 'bundled') {
      for (const plugin of BUNDLED_PLUGINS) if (!registry.has(plugin.name)) registry.register(plugin);
      continue;
    }
    if (registry.has(name)) throw new PluginLoadError(`plugin '${name}' is listed twice or shadows a bundled plugin`);
    registry.register(await loadCustomPlugin(name, pluginsPath));
  }
  return registry;
}

async function loadCustomPlugin(name: string, pluginsPath: string | undefined): Promise<PluginDefinition> {
  if (!pluginsPath) throw new PluginLoadError(`plugin '${name}': set plugins_path (SLUICE_PLUGINS_PATH) to the folder that holds it`);
  const folder = resolve(pluginsPath, name);
  const index = findModule(folder, 'index');
  try {
    if (index) return checkDefinition(name, ((await import(index)) as { plugin?: unknown }).plugin, index);
    const schemaFile = findModule(folder, 'schema');
    const handlerFile = findModule(folder, 'handler');
    if (!schemaFile || !handlerFile) throw new PluginLoadError(`plugin '${name}': no index, or schema and handler, in ${folder}`);
    const { schema } = (await import(schemaFile)) as { schema?: unknown };
    const handler = (await import(handlerFile)) as PluginHandler;
    if (typeof schema !== 'object' || schema === null) throw new PluginLoadError(`plugin '${name}': ${schemaFile} must export a TypeBox 'schema'`);
    return checkDefinition(name, definePlugin({ name, schema: schema as PluginDefinition['schema'], handler }), handlerFile);
  } catch (error) {
    if (error instanceof PluginLoadError) throw error;
    throw new PluginLoadError(`plugin '${name}': cannot load from ${folder}: ${(error as Error).message}`, { cause: error });
  }
}

function findModule(folder: string, base: string): string | undefined {
  for (const ext of EXTENSIONS) {
    const file = join(folder, `${base}.${ext}`);
    if (existsSync(file)) return pathToFileURL(file).href;
  }
  return undefined;
}

/** The contract, checked at load time so a broken plugin fails the start, not a request. */
function checkDefinition(name: string, value: unknown, from: string): PluginDefinition {
  const def = value as Partial<PluginDefinition> | undefined;
  const problem =
    !def || typeof def !== 'object'
      ? `${from} must export 'plugin' (use definePlugin)`
      : def.name !== name
        ? `its name is '${String(def.name)}', not the folder's name '${name}'`
        : typeof def.PRIORITY !== 'number' || !Number.isFinite(def.PRIORITY)
          ? 'PRIORITY must be a number'
          : typeof def.VERSION !== 'string'
            ? 'VERSION must be a string'
            : typeof def.schema !== 'object' || def.schema === null
              ? 'it has no config schema'
              : undefined;
  if (problem) throw new PluginLoadError(`plugin '${name}': ${problem}`);
  return def as PluginDefinition;
}
