import type { Pdk } from '../../pdk/types.ts';

/** Where the plugin looks for tokens (config names, compiled once). */
export interface TokenSources {
  readonly uriParamNames: readonly string[];
  readonly cookieNames: readonly string[];
  readonly headerNames: readonly string[];
}

/** Kong's pattern: unanchored, `Bearer` or `bearer`, the token is the rest of the value. */
const BEARER = /\s*[Bb]earer\s+(.+)/;

/**
 * Every distinct token the request carries, as Kong's `retrieve_tokens`: query arguments
 * (each value of a repeated one), then cookies, then `Bearer` headers (first occurrence of
 * each). The same token sent twice counts once; two different ones are refused by the caller
 * ("Multiple tokens provided") rather than guessing which one is meant.
 */
export function retrieveTokens(kong: Pdk, sources: TokenSources): string[] {
  const found = new Set<string>();
  if (sources.uriParamNames.length > 0) {
    const query = kong.request.getQuery();
    for (const name of sources.uriParamNames) {
      const value = query[name];
      if (typeof value === 'string') addToken(found, value);
      else if (Array.isArray(value)) for (const v of value) addToken(found, v);
    }
  }
  if (sources.cookieNames.length > 0) {
    const header = kong.request.getHeader('cookie');
    if (header) for (const name of sources.cookieNames) addToken(found, cookieValue(header, name));
  }
  for (const name of sources.headerNames) {
    const value = kong.request.getHeader(name);
    if (value === undefined) continue;
    addToken(found, BEARER.exec(value)?.[1]);
  }
  return [...found];
}

function addToken(found: Set<string>, token: string | undefined): void {
  if (token) found.add(token);
}

/** The first cookie called `name`, raw as nginx's `$cookie_<name>` gives it (no decoding). */
export function cookieValue(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
