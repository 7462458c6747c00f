import assert from 'node:assert/strict';
import { formatConfigError, loadDeclarativeConfig, type LoadResult } from '../../src/config/load.ts';
import type { Snapshot } from '../../src/config/types.ts';
import { createBundledRegistry, type PluginRegistry } from '../../src/plugins/registry.ts';

/** The bundled plugins: the fixtures, modelled on Kong's documentation, load with the real plugin schemas. */
export function testRegistry(): PluginRegistry {
  return createBundledRegistry();
}

/** Loads kong.yml text with the bundled plugins. */
export function load(text: string, filename = 'kong.yml'): LoadResult {
  return loadDeclarativeConfig(text, { filename, registry: testRegistry() });
}

/** The snapshot of a config that must load (the test fails with its errors otherwise). */
export function snapshot(text: string): Snapshot {
  const result = load(text);
  if (!result.ok) assert.fail(result.errors.map(formatConfigError).join('\n'));
  return result.snapshot;
}

/** The formatted errors of a config that must be rejected. */
export function errorsOf(text: string): string[] {
  const result = load(text);
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.errors.map(formatConfigError);
}
