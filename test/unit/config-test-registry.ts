import { createBundledRegistry, type PluginRegistry } from '../../src/plugins/registry.ts';

/** The bundled plugins: the fixtures, modelled on Kong's documentation, load with the real plugin schemas. */
export function testRegistry(): PluginRegistry {
  return createBundledRegistry();
}
