import { Type, type TProperties } from '@sinclair/typebox';
import { BaseFields, entity, ForeignRef, OneOf, PROTOCOLS } from './common.ts';

/**
 * Plugin instances. Two fields are Sluice's: `ordering` (Kong sells it as Enterprise): names
 * of plugins this one must run before / after in the `access` phase; and `exclude`: routes
 * and services (by name or id) a global or service-wide plugin does not apply to.
 */

const PhaseList = Type.Object({ access: Type.Optional(Type.Array(Type.String({ minLength: 1 }))) }, { additionalProperties: false });

export const PluginOrderingSchema = Type.Object(
  { before: Type.Optional(PhaseList), after: Type.Optional(PhaseList) },
  { additionalProperties: false },
);

export const PluginExcludeSchema = Type.Object(
  { routes: Type.Optional(Type.Array(ForeignRef)), services: Type.Optional(Type.Array(ForeignRef)) },
  { additionalProperties: false },
);

export const PLUGIN_DEFAULT_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'] as const;

const PluginFields = {
  ...BaseFields,
  name: Type.String({ minLength: 1 }),
  instance_name: Type.Optional(Type.String({ minLength: 1 })),
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { default: {} })),
  protocols: Type.Optional(Type.Array(OneOf(PROTOCOLS), { default: [...PLUGIN_DEFAULT_PROTOCOLS] })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  ordering: Type.Optional(PluginOrderingSchema),
  exclude: Type.Optional(PluginExcludeSchema),
} satisfies TProperties;

export type PluginParent = 'route' | 'service' | 'consumer';

/**
 * Kong drops the parent's foreign key from a nested entity's schema (the parent is implied),
 * so `service:` inside `services[].plugins[]` is an unknown field; other keys stay.
 */
function pluginEntity(parent: PluginParent | undefined, title: string) {
  const refs: TProperties = {};
  for (const key of ['route', 'service', 'consumer'] as const) {
    if (key !== parent) refs[key] = Type.Optional(ForeignRef);
  }
  return entity(title, { ...PluginFields, ...refs } as typeof PluginFields, {});
}

export const PluginEntity = pluginEntity(undefined, 'plugin');
export const ServicePluginEntity = pluginEntity('service', 'plugin (nested in a service)');
export const RoutePluginEntity = pluginEntity('route', 'plugin (nested in a route)');
export const ConsumerPluginEntity = pluginEntity('consumer', 'plugin (nested in a consumer)');

export const PluginSchema = PluginEntity.schema;
