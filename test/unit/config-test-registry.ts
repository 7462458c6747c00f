import { Type } from '@sinclair/typebox';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import type { PluginDefinition } from '../../src/plugins/contract.ts';

/** A definition whose handler joins no phase: enough for config validation. */
function stub(def: Omit<PluginDefinition, 'handler'>): PluginDefinition {
  return { ...def, handler: { PRIORITY: def.PRIORITY, VERSION: def.VERSION } };
}

/**
 * Tiny stand-ins for bundled plugins, enough for the config fixtures: real names and scope
 * restrictions, small config schemas with defaults. The real definitions come with the
 * plugin issues.
 */
export function testRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  const closed = { additionalProperties: false } as const;
  const strings = (def: string[] = []) => Type.Optional(Type.Array(Type.String(), { default: def }));
  registry.register(stub({
    name: 'key-auth',
    PRIORITY: 1250,
    VERSION: '0.0.0-test',
    scopes: { consumer: false },
    schema: Type.Object(
      { key_names: strings(['apikey']), hide_credentials: Type.Optional(Type.Boolean({ default: false })), anonymous: Type.Optional(Type.String()) },
      closed,
    ),
  }));
  registry.register(stub({
    name: 'jwt',
    PRIORITY: 1450,
    VERSION: '0.0.0-test',
    scopes: { consumer: false },
    schema: Type.Object(
      {
        uri_param_names: strings(['jwt']),
        cookie_names: strings(),
        claims_to_verify: Type.Optional(Type.Array(Type.Union([Type.Literal('exp'), Type.Literal('nbf')]))),
      },
      closed,
    ),
  }));
  registry.register(stub({
    name: 'acl',
    PRIORITY: 950,
    VERSION: '0.0.0-test',
    scopes: { consumer: false },
    schema: Type.Object({ allow: Type.Optional(Type.Array(Type.String())), deny: Type.Optional(Type.Array(Type.String())) }, closed),
  }));
  const limit = Type.Optional(Type.Number({ exclusiveMinimum: 0 }));
  registry.register(stub({
    name: 'rate-limiting',
    PRIORITY: 910,
    VERSION: '0.0.0-test',
    schema: Type.Object(
      {
        second: limit,
        minute: limit,
        hour: limit,
        policy: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('redis')], { default: 'local' })),
        fault_tolerant: Type.Optional(Type.Boolean({ default: true })),
      },
      closed,
    ),
  }));
  registry.register(stub({
    name: 'cors',
    PRIORITY: 2000,
    VERSION: '0.0.0-test',
    scopes: { consumer: false },
    schema: Type.Object({ origins: strings() }, closed),
  }));
  registry.register(stub({
    name: 'pubsub-subscriber',
    PRIORITY: 0,
    VERSION: '0.0.0-test',
    schema: Type.Object({ channels: Type.Array(Type.String(), { minItems: 1 }), transports: strings(['eventsource']) }, closed),
  }));
  return registry;
}
