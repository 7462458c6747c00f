import { Type } from '@sinclair/typebox';
import type { PluginDefinition } from '../../src/plugins/contract.ts';
import { createBundledRegistry, type PluginRegistry } from '../../src/plugins/registry.ts';

/** A definition whose handler joins no phase: enough for config validation. */
function stub(def: Omit<PluginDefinition, 'handler'>): PluginDefinition {
  return { ...def, handler: { PRIORITY: def.PRIORITY, VERSION: def.VERSION } };
}

/**
 * The bundled plugins (the fixtures, modelled on Kong's documentation, load with the real
 * plugin schemas) plus a stand-in for `pubsub-subscriber`, which arrives with the pub/sub issue.
 */
export function testRegistry(): PluginRegistry {
  const registry = createBundledRegistry();
  registry.register(
    stub({
      name: 'pubsub-subscriber',
      PRIORITY: 0,
      VERSION: '0.0.0-test',
      schema: Type.Object(
        { channels: Type.Array(Type.String(), { minItems: 1 }), transports: Type.Optional(Type.Array(Type.String(), { default: ['eventsource'] })) },
        { additionalProperties: false },
      ),
    }),
  );
  return registry;
}
