/**
 * Parsers of the node settings that name a hook: `internal_publisher_upstream` (a URL, or `off`)
 * and its timeout. They throw a plain Error with the reason; the settings resolver adds where the
 * value came from (`SLUICE_INTERNAL_PUBLISHER_UPSTREAM: invalid URL "ftp://app": ...`).
 *
 * @example
 *   parseHookUrl('off'); // null
 *   parseMilliseconds('250ms'); // 250
 */
import { hookUrlProblem } from '../pubsub/hook-url.ts';

/** `off` → null (no hook); else an absolute http(s) URL without credentials. */
export function parseHookUrl(value: string): string | null {
  if (value.toLowerCase() === 'off') return null;
  const problem = hookUrlProblem(value);
  // A URL with credentials is not echoed: the error goes to logs.
  if (problem !== undefined) throw new Error(`invalid URL${problem.startsWith('credentials') ? '' : ` "${value}"`}: ${problem}`);
  return value;
}

/** A hook deadline: whole milliseconds, 1 to 600000 (as the pub/sub plugins' `*_timeout`). */
export function parseMilliseconds(value: string): number {
  const m = /^(\d+)(?:ms)?$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 600_000) throw new Error(`invalid timeout "${value}" (milliseconds, 1 to 600000)`);
  return Number(m[1]);
}
