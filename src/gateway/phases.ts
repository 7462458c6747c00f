import type { RequestContext } from './context.ts';

/** Kong's request phases, in the order they run. */
export const PHASES = ['rewrite', 'access', 'header_filter', 'body_filter', 'log'] as const;
export type PhaseName = (typeof PHASES)[number];

/** One step of a phase. A plugin contributes at most one hook per phase. */
export type PhaseHook = (ctx: RequestContext) => void | Promise<void>;

/** The hooks that run for one route, resolved once per snapshot by the plugin chain. */
export type PhaseHooks = Readonly<Record<PhaseName, readonly PhaseHook[]>>;

export const NO_HOOKS: PhaseHooks = Object.freeze({
  rewrite: [],
  access: [],
  header_filter: [],
  body_filter: [],
  log: [],
});

/**
 * Runs one phase's hooks in order, stopping as soon as one of them answers the request.
 * The one small runner every phase goes through, so there is one error path.
 */
export async function runPhase(hooks: readonly PhaseHook[], ctx: RequestContext): Promise<void> {
  for (const hook of hooks) {
    await hook(ctx);
    if (ctx.exited) return;
  }
}
