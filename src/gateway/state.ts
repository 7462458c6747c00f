import type { Snapshot } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import { PluginChain } from '../plugins/chain.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { createRouter } from '../router/index.ts';
import type { Router } from '../router/types.ts';
import { compileChannelPolicies, type ChannelPolicies } from '../pubsub/policies.ts';
import type { Hub } from '../pubsub/hub.ts';

/**
 * Everything a request needs from the config, built once per snapshot and swapped as one
 * reference, so a reload is atomic: a request keeps the state it started with.
 */
export interface RuntimeState {
  readonly snapshot: Snapshot;
  readonly router: Router;
  /** Compiled plugin instances and the resolved chain per route. */
  readonly plugins: PluginChain;
  /** The snapshot's `channels` policies, compiled. */
  readonly channelPolicies: ChannelPolicies;
}

/** Throws when a plugin's `compile` rejects its config; the caller keeps the old state then. */
export function buildRuntimeState(snapshot: Snapshot, registry: PluginRegistry, logger: Logger, hub: Hub): RuntimeState {
  return {
    snapshot,
    router: createRouter(snapshot.routes, snapshot.services),
    plugins: PluginChain.build(snapshot, registry, logger, hub),
    channelPolicies: compileChannelPolicies(snapshot.channels),
  };
}
