import { Type } from '@sinclair/typebox';
import { definePlugin, type PluginDefinition, type PluginHandler } from '../../src/plugins/contract.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';
import { createBundledRegistry, type PluginRegistry } from '../../src/plugins/registry.ts';

const TagConfig = Type.Object({ tag: Type.String({ default: '' }) }, { additionalProperties: false });
type TagConf = { tag: string };

/**
 * A plugin that records that it ran: appends `<name>:<tag>` to the upstream header
 * `x-trail` in access, and to the response header `x-trail-out` in header_filter.
 */
export function trailPlugin(name: string, priority: number): PluginDefinition {
  return definePlugin<TagConf, TagConf>({
    name,
    schema: TagConfig,
    handler: {
      PRIORITY: priority,
      VERSION: '1.0.0',
      access(kong: Pdk, conf) {
        const before = kong.service.request.getHeader('x-trail');
        kong.service.request.setHeader('x-trail', before ? `${before},${name}:${conf.tag}` : `${name}:${conf.tag}`);
      },
      header_filter(kong: Pdk, conf) {
        kong.response.addHeader('x-trail-out', `${name}:${conf.tag}`);
      },
    },
  });
}

type NoConfig = Record<string, never>;

/**
 * A test plugin without configuration: `handler` is its phases (and PRIORITY); VERSION is filled in.
 *
 * @example
 *   const logOnly = noConfigPlugin('log-only', { PRIORITY: 1, log() {} });
 */
export function noConfigPlugin(name: string, handler: Omit<PluginHandler<NoConfig, NoConfig>, 'VERSION'>): PluginDefinition {
  return definePlugin<NoConfig, NoConfig>({ name, schema: Type.Object({}, { additionalProperties: false }), handler: { VERSION: '1.0.0', ...handler } });
}

/** Authenticates as the consumer named in the `x-user` header (a stand-in for key-auth). */
export const headerAuth = definePlugin<Record<string, never>, Record<string, never>>({
  name: 'header-auth',
  schema: Type.Object({}, { additionalProperties: false }),
  scopes: { consumer: false },
  handler: {
    PRIORITY: 1250,
    VERSION: '1.0.0',
    access(kong: Pdk) {
      const consumer = kong.client.loadConsumer(kong.request.getHeader('x-user') ?? '', true);
      if (!consumer) return kong.response.error(401, 'Unauthorized');
      kong.client.authenticate(consumer, undefined);
    },
  },
});

/** Misbehaving plugins: `mode` picks how. */
export const faulty = definePlugin<{ mode: string }, { mode: string }>({
  name: 'faulty',
  schema: Type.Object({ mode: Type.String() }, { additionalProperties: false }),
  handler: {
    PRIORITY: 500,
    VERSION: '1.0.0',
    async access(kong: Pdk, conf) {
      if (conf.mode === 'throw') throw new Error('boom');
      if (conf.mode === 'reject') await Promise.reject(new Error('async boom'));
      if (conf.mode === 'exit') kong.response.exit(418, { teapot: true }, { 'x-exit': 'yes' });
    },
    header_filter(kong: Pdk, conf) {
      if (conf.mode === 'misuse') kong.service.request.setHeader('x-late', 'too late');
      if (conf.mode === 'filter-throw') throw new Error('filter boom');
    },
  },
});

/** The bundled plugins plus the test ones above. */
export function registryWithTestPlugins(...extra: PluginDefinition[]): PluginRegistry {
  const registry = createBundledRegistry();
  for (const def of [headerAuth, faulty, ...extra]) registry.register(def);
  return registry;
}
