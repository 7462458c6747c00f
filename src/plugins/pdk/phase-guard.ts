import type { PluginPhase } from '../contract.ts';

/** A PDK function used in a phase Kong does not allow it in: a plugin bug, answered 500. */
export class PhaseError extends Error {
  override readonly name = 'PhaseError';
  readonly code = 'PLUGIN_PHASE_MISUSE';
}

export const REQUEST_PHASES: readonly PluginPhase[] = ['rewrite', 'access'];
export const BEFORE_RESPONSE: readonly PluginPhase[] = ['rewrite', 'access', 'header_filter'];
export const RESPONSE_PHASES: readonly PluginPhase[] = ['header_filter', 'body_filter', 'log'];
export const AFTER_AUTH: readonly PluginPhase[] = ['access', 'header_filter', 'body_filter', 'log'];

/** Throws a {@link PhaseError} naming the function and where it may be used. */
export function checkPhase(current: PluginPhase, allowed: readonly PluginPhase[], what: string): void {
  if (!allowed.includes(current)) {
    throw new PhaseError(`${what} cannot be used in the '${current}' phase (allowed: ${allowed.join(', ')})`);
  }
}
