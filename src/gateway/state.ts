import type { Snapshot } from '../config/types.ts';
import { createRouter } from '../router/index.ts';
import type { RouteMatch, Router } from '../router/types.ts';
import { NO_HOOKS, type PhaseHooks } from './phases.ts';

/**
 * Everything a request needs from the config, built once per snapshot and swapped as one
 * reference, so a reload is atomic: a request keeps the state it started with.
 */
export interface RuntimeState {
  readonly snapshot: Snapshot;
  readonly router: Router;
  /** The plugin hooks for a matched route (the plugin chain fills this in). */
  hooksFor(match: RouteMatch): PhaseHooks;
}

export function buildRuntimeState(snapshot: Snapshot): RuntimeState {
  const router = createRouter(snapshot.routes, snapshot.services);
  return { snapshot, router, hooksFor: () => NO_HOOKS };
}
