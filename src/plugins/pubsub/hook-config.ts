import { Type } from '@sinclair/typebox';
import { hookUrlProblem } from '../../pubsub/hook-url.ts';
import type { Pdk } from '../pdk/types.ts';

/** A hook URL in a pub/sub plugin's config: absolute http(s). `hookUrlProblems` checks the rest. */
export const HookUrl = Type.String({ minLength: 1, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' });

/** A hook deadline in ms (nchan inherits nginx's proxy timeouts; Sluice's default is 5 s). */
export const HookTimeout = Type.Integer({ minimum: 1, maximum: 600_000, default: 5000 });

/** Load-time check of a plugin's hook URLs: each must parse as an absolute http or https URL. */
export function hookUrlProblems(urls: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(urls)) {
    const problem = value === undefined ? undefined : hookUrlProblem(value);
    if (problem !== undefined) problems.push(`${field}: ${problem}`);
  }
  return problems;
}

/** The client's request URI as sent (nginx's `$request_uri`), for `X-Original-URI`. */
export function originalUri(kong: Pdk): string {
  const query = kong.request.getRawQuery();
  return query === '' ? kong.request.getRawPath() : `${kong.request.getRawPath()}?${query}`;
}
