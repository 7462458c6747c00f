import { createBundledRegistry } from '../../src/plugins/registry.ts';

/** A bundled plugin's config validated (defaults filled in) by a fresh registry, or throws with the issues; for unit tests. */
export function validPluginConfig<C>(plugin: string, raw: Record<string, unknown>): C {
  const result = createBundledRegistry().validateConfig(plugin, raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config as C;
}
