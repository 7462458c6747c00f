/**
 * Kong's pagination for `GET /channels`, on the engine's cursor instead of a list position:
 * `size` as every Admin API list (default 100, 1–1000), an opaque `offset` (base64url of
 * `["channels", <engine cursor>]`, so clients cannot depend on the cursor's form), and `next`
 * links that carry `size` and `prefix` along.
 *
 * @example
 *   const q = parseChannelQuery(new URLSearchParams('size=2&prefix=chat:'));   // throws AdminError 400 on bad size / offset
 *   nextLink(q, 'chat:b')   // { offset: 'WyJjaGFubmVscyIsImNoYXQ6YiJd', next: '/channels?offset=WyJjaGFubmVscyIsImNoYXQ6YiJd&size=2&prefix=chat%3A' }
 */
import { decodeOffsetToken, encodeOffsetToken, invalidOffset, pageSize } from './pagination.ts';

export interface ChannelQuery {
  readonly prefix: string;
  readonly size: number;
  /** The engine cursor the offset carried; null for the first page. */
  readonly cursor: string | null;
  /** Whether the client set `size` (then `next` carries it). */
  readonly sizeGiven: boolean;
}

const TAG = 'channels';

export function encodeChannelOffset(cursor: string): string {
  return encodeOffsetToken([TAG, cursor]);
}

/** The engine cursor inside an offset; AdminError INVALID_OFFSET when it is not one of ours. */
export function decodeChannelOffset(token: string): string {
  const shown = token.slice(0, 64);
  const decoded = decodeOffsetToken(token, shown);
  if (decoded.length !== 2 || decoded[0] !== TAG || typeof decoded[1] !== 'string') throw invalidOffset(shown, 'bad offset');
  return decoded[1];
}

/** Reads `size`, `offset` and `prefix`; other parameters are ignored. */
export function parseChannelQuery(params: URLSearchParams): ChannelQuery {
  const offset = params.get('offset');
  return {
    prefix: params.get('prefix') ?? '',
    size: pageSize(params.get('size')),
    cursor: offset === null ? null : decodeChannelOffset(offset),
    sizeGiven: params.has('size'),
  };
}

/** Kong's `offset` and `next` for the page after `cursor`. */
export function nextLink(query: ChannelQuery, cursor: string): { offset: string; next: string } {
  const offset = encodeChannelOffset(cursor);
  const params = new URLSearchParams({ offset });
  if (query.sizeGiven) params.set('size', String(query.size));
  if (query.prefix !== '') params.set('prefix', query.prefix);
  return { offset, next: `/channels?${params.toString()}` };
}
