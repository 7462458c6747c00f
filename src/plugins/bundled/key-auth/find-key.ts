import type { Pdk } from '../../pdk/types.ts';

/** Where key-auth may look for the key, from the compiled config. */
export interface KeySources {
  readonly keyNames: readonly string[];
  readonly inHeader: boolean;
  readonly inQuery: boolean;
  readonly inBody: boolean;
}

export type FoundKey =
  | { readonly kind: 'found'; readonly key: string; readonly name: string; readonly body: unknown }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'missing'; readonly body: unknown };

const NOT_READ = Symbol('body not read');

/**
 * Kong's search order: for each key name in turn, the header, then the query string, then the
 * body; the first name carrying a value wins. A name given twice (header repeated, `?apikey=a&
 * apikey=b`, an array in a JSON body) is "Duplicate API key found" rather than a guess at
 * which one was meant. The body is read only when a name was found nowhere else.
 */
export async function findKey(kong: Pdk, sources: KeySources): Promise<FoundKey> {
  const headers = sources.inHeader ? kong.request.getHeaders() : undefined;
  const query = sources.inQuery ? kong.request.getQuery() : undefined;
  let body: unknown = NOT_READ;
  for (const name of sources.keyNames) {
    // A header or query argument sent once may still come as a one-element list.
    let value: unknown = single(headers?.[name.toLowerCase()]);
    if (value === undefined && query) value = single(query[name]);
    if (value === undefined && sources.inBody) {
      if (body === NOT_READ) body = await kong.request.getBody();
      value = isRecord(body) ? body[name] : undefined;
    }
    if (typeof value === 'string') return { kind: 'found', key: value, name, body: body === NOT_READ ? undefined : body };
    // Lua sees a repeated header, a repeated argument and a JSON array or object alike: a table.
    if (typeof value === 'object' && value !== null) return { kind: 'duplicate' };
  }
  return { kind: 'missing', body: body === NOT_READ ? undefined : body };
}

function single(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `raw` without the `name` arguments (`a=1&apikey=x&b=2` → `a=1&b=2`), the others byte for byte. */
export function withoutQueryArg(raw: string, name: string): string {
  return raw
    .split('&')
    .filter((part) => part !== '' && decodeQueryName(part) !== name)
    .join('&');
}

function decodeQueryName(part: string): string {
  const eq = part.indexOf('=');
  const encoded = (eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
