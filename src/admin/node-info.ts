import { hostname } from 'node:os';
import type { HubCounters } from '../pubsub/hub.ts';
import type { RuntimeState } from '../gateway/state.ts';
import { VERSION } from '../version.ts';
import type { AdminRoute } from './types.ts';

/**
 * The node's own endpoints: `GET /` (node info with the plugins, as Kong's), `GET /status`
 * (configuration hash, connections, memory, pub/sub counters) and `GET /plugins/enabled`.
 */

export const nodeRoutes: readonly AdminRoute[] = [
  {
    method: 'GET',
    pattern: '/',
    handler: ({ deps, state }) => ({
      status: 200,
      body: {
        version: VERSION,
        tagline: 'Welcome to sluice',
        node_id: deps.nodeId,
        hostname: hostname(),
        plugins: {
          available_on_server: Object.fromEntries(
            deps.registry.names().map((name) => {
              const def = deps.registry.get(name);
              return [name, { version: def?.VERSION ?? null, priority: def?.PRIORITY ?? null }];
            }),
          ),
          enabled_in_cluster: [...new Set(state.snapshot.plugins.map((p) => p.name))].sort(),
        },
        configuration: { database: 'off', role: 'traditional' },
      },
    }),
  },
  {
    method: 'GET',
    pattern: '/status',
    handler: async ({ deps, state }) => ({
      status: 200,
      body: { ...statusBody(state, deps.connections()), pubsub: pubsubStatus(await deps.hub.counters()) },
    }),
  },
  { method: 'GET', pattern: '/plugins/enabled', handler: ({ deps }) => ({ status: 200, body: { enabled_plugins: deps.registry.names() } }) },
];

/** nchan_stub_status's counters, in Kong's snake_case. */
function pubsubStatus(counters: HubCounters) {
  return {
    published_messages: counters.published,
    stored_messages: counters.stored,
    channels: counters.channels,
    subscribers: counters.subscribers,
    slow_consumer_closes: counters.slowConsumers,
  };
}

/** Kong's DB-less `/status`: the configuration hash instead of `database.reachable`. */
export function statusBody(state: RuntimeState, connections?: number) {
  const memory = process.memoryUsage();
  return {
    configuration_hash: state.snapshot.hash,
    ...(connections === undefined ? {} : { server: { connections_active: connections } }),
    memory: { rss: memory.rss, heap_used: memory.heapUsed },
  };
}
