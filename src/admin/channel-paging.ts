/**
 * Kong's pagination for `GET /channels`: `size` (default 100, 1–1000), an opaque `offset`
 * (the engine's cursor, base64url-wrapped so clients cannot depend on its form), and `next`
 * links that carry `size` and `prefix` along.
 *
 * @example
 *   const q = parseChannelQuery(new URLSearchParams('size=2&prefix=chat:'));
 *   if ('error' in q) …;                      // { error: 'INVALID_SIZE', message }
 *   nextLink(q, 'chat:b')                     // { offset: 'Y2gxOmNoYXQ6Yg', next: '/channels?offset=Y2gxOmNoYXQ6Yg&size=2&prefix=chat%3A' }
 */
import type { GatewayErrorCode } from '../gateway/errors.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface ChannelQuery {
  readonly prefix: string;
  readonly size: number;
  /** The engine cursor the offset carried; null for the first page. */
  readonly cursor: string | null;
  /** `size` as the client wrote it, carried into `next` links. */
  readonly sizeParam?: string;
}

export interface QueryError {
  readonly error: GatewayErrorCode;
  readonly message: string;
}

/** Marks our offsets; anything else decodes to garbage and is refused. */
const OFFSET_TAG = 'ch1:';

export function encodeOffset(cursor: string): string {
  return Buffer.from(OFFSET_TAG + cursor, 'utf8').toString('base64url');
}

/** The engine cursor inside an offset, or undefined when it is not one of ours. */
export function decodeOffset(offset: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(offset)) return undefined;
  const bytes = Buffer.from(offset, 'base64url');
  if (bytes.toString('base64url') !== offset) return undefined; // not canonical: not ours
  const text = bytes.toString('utf8');
  return text.startsWith(OFFSET_TAG) ? text.slice(OFFSET_TAG.length) : undefined;
}

/** Reads `size`, `offset` and `prefix`; other parameters are ignored, as Kong does. */
export function parseChannelQuery(params: URLSearchParams): ChannelQuery | QueryError {
  const prefix = params.get('prefix') ?? '';
  const sizeParam = params.get('size') ?? undefined;
  let size = DEFAULT_PAGE_SIZE;
  if (sizeParam !== undefined) {
    size = /^\d{1,4}$/.test(sizeParam) ? Number(sizeParam) : NaN;
    if (!(size >= 1 && size <= MAX_PAGE_SIZE)) return { error: 'INVALID_SIZE', message: `size must be an integer between 1 and ${MAX_PAGE_SIZE}` };
  }
  const offset = params.get('offset');
  let cursor: string | null = null;
  if (offset !== null) {
    const decoded = decodeOffset(offset);
    if (decoded === undefined) return { error: 'INVALID_OFFSET', message: `'${offset.slice(0, 64)}' is not a valid offset` };
    cursor = decoded;
  }
  return { prefix, size, cursor, ...(sizeParam !== undefined ? { sizeParam } : {}) };
}

/** Kong's `offset` and `next` for the page after `cursor`. */
export function nextLink(query: ChannelQuery, cursor: string): { offset: string; next: string } {
  const offset = encodeOffset(cursor);
  const params = new URLSearchParams({ offset });
  if (query.sizeParam !== undefined) params.set('size', query.sizeParam);
  if (query.prefix !== '') params.set('prefix', query.prefix);
  return { offset, next: `/channels?${params.toString()}` };
}
