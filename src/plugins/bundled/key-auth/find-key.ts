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

/**
 * Kong's search order: for each key name in turn, the header, then the query string, then the
 * body; the first name carrying a value wins. A name given twice (header repeated, `?apikey=a&
 * apikey=b`, an array in a JSON body) is "Duplicate API key found" rather than a guess at
 * which one was meant. The body is read only when a name was found nowhere else; until then
 * the search is synchronous (no promise per request when the key is in a header).
 */
export function findKey(kong: Pdk, sources: KeySources): FoundKey | Promise<FoundKey> {
  const headers = sources.inHeader ? kong.request.getHeaders() : undefined;
  // The query is parsed only when a name is not in the headers.
  let query: Query | undefined;
  const names = sources.keyNames;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    let value = single(headers?.[name.toLowerCase()]);
    if (value === undefined && sources.inQuery) value = single((query ??= kong.request.getQuery())[name]);
    if (value === undefined && sources.inBody) return findFromBody(kong, sources, headers, sources.inQuery ? (query ?? kong.request.getQuery()) : undefined, i);
    const found = verdict(value, name, undefined);
    if (found) return found;
  }
  return { kind: 'missing', body: undefined };
}

/** The rest of the search once the body is needed, from the `from`th key name on. */
async function findFromBody(kong: Pdk, sources: KeySources, headers: Headers | undefined, query: Query | undefined, from: number): Promise<FoundKey> {
  const body = await kong.request.getBody();
  const names = sources.keyNames;
  for (let i = from; i < names.length; i++) {
    const name = names[i]!;
    let value = inHeaderOrQuery(name, headers, query);
    if (value === undefined) value = isRecord(body) ? body[name] : undefined;
    const found = verdict(value, name, body);
    if (found) return found;
  }
  return { kind: 'missing', body };
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;
type Query = Readonly<Record<string, string | string[]>>;

function inHeaderOrQuery(name: string, headers: Headers | undefined, query: Query | undefined): unknown {
  // A header or query argument sent once may still come as a one-element list.
  const value = single(headers?.[name.toLowerCase()]);
  return value === undefined && query ? single(query[name]) : value;
}

/** What a value found under `name` means; undefined: look at the next name. */
function verdict(value: unknown, name: string, body: unknown): FoundKey | undefined {
  if (typeof value === 'string') return { kind: 'found', key: value, name, body };
  // Lua sees a repeated header, a repeated argument and a JSON array or object alike: a table.
  if (typeof value === 'object' && value !== null) return { kind: 'duplicate' };
  return undefined;
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
