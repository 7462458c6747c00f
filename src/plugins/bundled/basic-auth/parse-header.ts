/**
 * Reads `Basic <base64(username:password)>` the way Kong does (`basic-auth/access.lua`), so
 * clients Kong accepted are accepted here and the rest are refused alike: the scheme may sit
 * anywhere in the value and in either case of its first letter, the base64 is decoded like
 * nginx's `ngx.decode_base64` (stops at the first `=`, refuses any other stray character),
 * the username is what precedes the first colon (never empty) and the password the rest.
 */

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

const SCHEME = /\s*[Bb]asic\s*(.+)/;
const USER_PASS = /([^:]+):(.*)/;
const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;

export function parseBasicAuthorization(value: string): BasicCredentials | undefined {
  const encoded = SCHEME.exec(value)?.[1];
  if (encoded === undefined) return undefined;
  const decoded = decodeBase64LikeNginx(encoded);
  if (decoded === undefined) return undefined;
  const parts = USER_PASS.exec(decoded);
  if (!parts || parts[1] === undefined || parts[2] === undefined) return undefined;
  return { username: parts[1], password: parts[2] };
}

function decodeBase64LikeNginx(encoded: string): string | undefined {
  const end = encoded.indexOf('=');
  const data = end === -1 ? encoded : encoded.slice(0, end);
  if (!BASE64_CHARS.test(data) || data.length % 4 === 1) return undefined;
  return Buffer.from(data, 'base64').toString('utf8');
}
