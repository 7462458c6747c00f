import { AdminError } from './errors.ts';
import type { KongEntity } from './render.ts';

/**
 * Kong's list envelope: `{data, next, offset?}` with `size` (default 100, 1..1000), an opaque
 * `offset` token and the `tags` filter (`a,b` = has both, `a/b` = has either). `next` repeats
 * `size` and `tags` so following it walks the same filtered list.
 *
 * ```ts
 * paginate(entities, new URLSearchParams('size=2&tags=prod'), '/services');
 * // { data: [s1, s2], next: '/services?offset=WzJd&size=2&tags=prod', offset: 'WzJd' }
 * ```
 */

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  readonly data: readonly KongEntity[];
  readonly next: string | null;
  readonly offset?: string;
}

export function paginate(list: readonly KongEntity[], query: URLSearchParams, path: string): Page {
  const size = pageSize(query.get('size'));
  const tags = query.get('tags');
  const filtered = tags === null ? list : list.filter(tagFilter(tags));
  const start = query.has('offset') ? decodeOffset(query.get('offset') ?? '') : 0;
  const data = filtered.slice(start, start + size);
  if (start + size >= filtered.length) return { data, next: null };
  const offset = encodeOffset(start + size);
  const params = new URLSearchParams({ offset });
  if (query.has('size')) params.set('size', String(size));
  if (tags !== null) params.set('tags', tags);
  return { data, next: `${path}?${params.toString()}`, offset };
}

export function pageSize(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const size = raw.trim() === '' ? NaN : Number(raw);
  if (Number.isNaN(size)) throw new AdminError('INVALID_SIZE', { message: 'size must be a number' });
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new AdminError('INVALID_SIZE', { message: `size must be an integer between 1 and ${MAX_PAGE_SIZE}` });
  }
  return size;
}

function tagFilter(raw: string): (entity: KongEntity) => boolean {
  const invalid = (reason: string) =>
    new AdminError('INVALID_OPTIONS', { message: `invalid option (tags: ${reason})`, fields: { tags: reason } });
  if (raw === '') throw invalid('cannot be null');
  if (raw.includes(',') && raw.includes('/')) throw invalid('invalid filter syntax');
  const any = raw.includes('/');
  const wanted = raw.split(any ? '/' : ',');
  if (wanted.some((t) => t === '')) throw invalid('invalid filter syntax');
  return (entity) => {
    const tags = Array.isArray(entity.tags) ? (entity.tags as unknown[]) : [];
    return any ? wanted.some((t) => tags.includes(t)) : wanted.every((t) => tags.includes(t));
  };
}

/**
 * The token is base64url of `[position]` (Kong's are base64 of JSON too); url-safe so a token
 * pasted into a query string unescaped still works. Clients must treat it as opaque.
 */
export function encodeOffset(position: number): string {
  return encodeOffsetToken([position]);
}

export function decodeOffset(token: string): number {
  const decoded = decodeOffsetToken(token);
  const position = decoded.length === 1 ? decoded[0] : undefined;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) throw invalidOffset(token, 'bad offset');
  return position;
}

/** An offset token: base64url of a JSON array (entity lists and the channel list put different things in it). */
export function encodeOffsetToken(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The array inside a token; AdminError INVALID_OFFSET when it is not base64url of a JSON array. */
export function decodeOffsetToken(token: string, shown = token): unknown[] {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidOffset(shown, 'bad base64 encoding');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidOffset(shown, 'bad offset');
  }
  if (!Array.isArray(decoded)) throw invalidOffset(shown, 'bad offset');
  return decoded;
}

export function invalidOffset(shown: string, reason: string): AdminError {
  return new AdminError('INVALID_OFFSET', { message: `'${shown}' is not a valid offset: ${reason}` });
}
