import { translatePcre } from '../../../config/route-regex.ts';

/**
 * Kong's origin matching (`kong/plugins/cors/handler.lua`): an entry made only of
 * `A-Za-z0-9.:/-` is an origin compared after normalization (scheme and host lower-cased,
 * default port dropped, path ignored); anything else is a PCRE regex, anchored at both ends
 * (a leading `^` and trailing `$` are accepted), matched against the normalized origin — or
 * only against its host when the regex contains no `:` (`.*\.example\.com`).
 *
 * A `*` next to other entries allows every origin (echoed back). Kong compiles it as the
 * regex `*$`, which PCRE rejects, so there it silently matches nothing.
 */
export interface OriginMatcher {
  /** True when the request's Origin header value is allowed. */
  match(origin: string): boolean;
}

interface NormalizedOrigin {
  readonly domain: string;
  readonly host: string;
}

/** `https://Example.com:443/x` → `{domain: 'https://example.com', host: 'example.com'}`. */
export function normalizeOrigin(origin: string): NormalizedOrigin {
  try {
    const url = new URL(origin);
    if (url.hostname) return { domain: `${url.protocol}//${url.host}`, host: url.hostname };
  } catch {
    // Not a URL (`null`, a bare host): compared as written, as Kong does.
  }
  return { domain: origin, host: origin };
}

const REGEX_MARKER = /[^A-Za-z0-9.:/-]/;

/** Compiles the configured origins; throws when a regex entry is not a valid regex. */
export function compileOrigins(origins: readonly string[]): OriginMatcher {
  const exact = new Set<string>();
  const regexes: { readonly regex: RegExp; readonly byHost: boolean }[] = [];
  let any = false;
  for (const entry of origins) {
    if (entry === '*') {
      any = true;
      continue;
    }
    if (!REGEX_MARKER.test(entry)) {
      exact.add(normalizeOrigin(entry).domain);
      continue;
    }
    let pattern = entry.startsWith('^') ? entry.slice(1) : entry;
    if (!pattern.endsWith('$')) pattern += '$';
    const { source, flags } = translatePcre(pattern);
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${source})`, flags);
    } catch (err) {
      throw new Error(`origins: '${entry}' is not a valid regex: ${(err as Error).message}`);
    }
    regexes.push({ regex, byHost: !entry.includes(':') });
  }
  return {
    match(origin) {
      if (any) return true;
      const normalized = normalizeOrigin(origin);
      if (exact.has(normalized.domain)) return true;
      for (const { regex, byHost } of regexes) {
        if (regex.test(byHost ? normalized.host : normalized.domain)) return true;
      }
      return false;
    },
  };
}
