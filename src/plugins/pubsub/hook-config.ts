import { Type } from '@sinclair/typebox';
import type { Pdk } from '../pdk/types.ts';

/** A hook URL in a pub/sub plugin's config: absolute http(s). `hookUrlProblems` checks the rest. */
export const HookUrl = Type.String({ minLength: 1, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' });

/** A hook deadline in ms (nchan inherits nginx's proxy timeouts; Sluice's default is 5 s). */
export const HookTimeout = Type.Integer({ minimum: 1, maximum: 600_000, default: 5000 });

/** Load-time check of a plugin's hook URLs: each must parse as an absolute http or https URL. */
export function hookUrlProblems(urls: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(urls)) {
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      problems.push(`${field}: not a valid URL`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${field}: must be an http or https URL`);
    else if (url.hostname === '') problems.push(`${field}: has no host`);
    else if (url.username !== '' || url.password !== '') problems.push(`${field}: credentials in the URL are not supported (send them as headers upstream)`);
  }
  return problems;
}

/** The client's request URI as sent (nginx's `$request_uri`), for `X-Original-URI`. */
export function originalUri(kong: Pdk): string {
  const query = kong.request.getRawQuery();
  return query === '' ? kong.request.getRawPath() : `${kong.request.getRawPath()}?${query}`;
}
