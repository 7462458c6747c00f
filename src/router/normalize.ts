/**
 * Request path normalization, Kong style (`kong/tools/uri.lua` `normalize`), applied before
 * routing and kept for the upstream request, so the route that runs the plugins is the route
 * whose resource the upstream serves (the CVE-2021-27306 `/public/../protected` class).
 *
 * One pass turns the path into a canonical spelling:
 * 1. percent-escapes are validated (`%zz`, a truncated `%4`, `%00` are rejected) and upper-cased;
 * 2. escapes of unreserved characters (ALPHA DIGIT `-._~`) are decoded, so `%41` is `A` and
 *    `%2e%2e` is `..`; every other escape stays encoded. Reserved characters stay encoded as
 *    in Kong (`%2F` is not a separator, `%25` is never decoded twice). Kong also decodes the
 *    "other" printable characters (space, `"`, `<`, `\`, `{`, ...) and re-escapes them before
 *    proxying; we keep them encoded instead, which gives the same routing for any route and
 *    keeps the output a valid request-target;
 * 3. characters that may not appear raw in a path (space, `"#<>?[\]^`{|}`, bytes >= 0x80)
 *    are percent-encoded, so a raw and an encoded spelling normalize to the same string.
 *    Code units 0x80-0xFF are taken as bytes (Node hands the request-target over as latin1);
 *    anything above is UTF-8 encoded (route paths written in a config file);
 * 4. empty segments (`//`) and dot segments are removed in one pass over the segments
 *    (RFC 3986 5.2.4 on a path whose duplicate slashes are merged first, as nginx and most
 *    backends read it: `/a//../b` is `/b`). A trailing `/`, `/.` or `/..` leaves a trailing
 *    slash, as in RFC 3986.
 *
 * Control characters (raw or `%00`) and paths not starting with `/` are rejected with
 * `BAD_PATH`. The result is idempotent: `normalizePath(normalizePath(p)) === normalizePath(p)`.
 */
import { GatewayError } from '../gateway/errors.ts';

const SLASH = 0x2f;
const PERCENT = 0x25;
const HEX = '0123456789ABCDEF';

/** Already canonical: non-empty segments of safe raw characters, none of them `.` or `..`. */
const CANONICAL = /^(?:(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~!$&'()*+,;=:@-]+)+\/?|\/)$/;

/** Per code unit 0..0x7f: 0 = keep raw, 1 = percent-encode, 2 = reject (control). */
const ASCII_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (c < 0x20 || c === 0x7f) table[c] = 2;
    else if (/[A-Za-z0-9._~!$&'()*+,;=:@/%-]/.test(ch)) table[c] = 0;
    else table[c] = 1;
  }
  return table;
})();

/** Bytes whose escape is decoded: the RFC 3986 unreserved set. */
const DECODE: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let c = 0; c < 128; c++) if (/[A-Za-z0-9._~-]/.test(String.fromCharCode(c))) table[c] = 1;
  return table;
})();

function badPath(detail: string): GatewayError {
  return new GatewayError('BAD_PATH', { detail });
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function escapeByte(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** Decode or re-spell escapes, encode unsafe raw characters, reject control characters. */
function canonicalChars(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const code = raw.charCodeAt(i);
    if (code === PERCENT) {
      const hi = i + 1 < raw.length ? hexValue(raw.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < raw.length ? hexValue(raw.charCodeAt(i + 2)) : -1;
      if (hi < 0 || lo < 0) throw badPath(`invalid percent-escape at offset ${i}`);
      const byte = (hi << 4) | lo;
      if (byte === 0) throw badPath('NUL byte in path');
      out += DECODE[byte] === 1 ? String.fromCharCode(byte) : escapeByte(byte);
      i += 3;
      continue;
    }
    if (code < 0x80) {
      const cls = ASCII_CLASS[code];
      if (cls === 2) throw badPath(code === 0 ? 'NUL byte in path' : `control character 0x${code.toString(16)} in path`);
      out += cls === 0 ? raw[i] : escapeByte(code);
      i += 1;
      continue;
    }
    if (code <= 0xff) {
      out += escapeByte(code);
      i += 1;
      continue;
    }
    const point = raw.codePointAt(i) ?? code;
    if (point >= 0xd800 && point <= 0xdfff) throw badPath('lone surrogate in path');
    out += encodeURIComponent(String.fromCodePoint(point));
    i += point > 0xffff ? 2 : 1;
  }
  return out;
}

/** Drop empty and `.` segments, resolve `..`; keep a trailing slash as RFC 3986 does. */
function removeDotSegments(path: string): string {
  const parts = path.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < parts.length; i++) {
    const segment = parts[i] as string;
    if (segment === '' || segment === '.') {
      trailingSlash = true;
    } else if (segment === '..') {
      out.pop();
      trailingSlash = true;
    } else {
      out.push(segment);
      trailingSlash = false;
    }
  }
  if (out.length === 0) return '/';
  const joined = `/${out.join('/')}`;
  return trailingSlash ? `${joined}/` : joined;
}

/**
 * Normalize a request path (the request-target without its query). Throws
 * `GatewayError('BAD_PATH')` for NUL bytes, control characters, invalid escapes, or a path
 * that does not start with `/`.
 */
export function normalizePath(rawPath: string): string {
  if (CANONICAL.test(rawPath)) return rawPath;
  if (rawPath.length === 0 || rawPath.charCodeAt(0) !== SLASH) throw badPath('path must start with "/"');
  return removeDotSegments(canonicalChars(rawPath));
}

export interface RequestTarget {
  /** The raw path (not yet normalized); `/` for an absolute-form target without a path. */
  readonly path: string;
  /** The raw query string without the `?`; empty when there is none. */
  readonly query: string;
  /** Whether a `?` was present, even with an empty query: Kong forwards a bare `?`. */
  readonly hasQueryMark: boolean;
}

/** `scheme://` at the start of an absolute-form request-target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Split a request-target (origin-form `/p?q` or absolute-form `http://host/p?q`) into path and
 * query. A fragment is dropped (clients must not send one; if they do it is not part of the
 * resource). Other forms (`*`, `host:port`) come back as the path, for `normalizePath` to reject.
 */
export function splitRequestTarget(target: string): RequestTarget {
  const hash = target.indexOf('#');
  let rest = hash >= 0 ? target.slice(0, hash) : target;
  const scheme = ABSOLUTE_FORM.exec(rest);
  if (scheme) {
    const afterAuthority = rest.slice(scheme[0].length).search(/[/?]/);
    rest = afterAuthority < 0 ? '/' : rest.slice(scheme[0].length + afterAuthority);
    if (rest.charCodeAt(0) !== SLASH) rest = `/${rest}`;
  }
  const mark = rest.indexOf('?');
  if (mark < 0) return { path: rest, query: '', hasQueryMark: false };
  return { path: rest.slice(0, mark), query: rest.slice(mark + 1), hasQueryMark: true };
}
