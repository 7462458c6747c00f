/**
 * Redis connection targets: a URL (or Kong-style fields) parsed into what a client needs. No
 * Redis client is loaded here, so settings can validate URLs cheaply; `connect.ts` makes clients.
 *
 * @example
 *   const target = parseRedisUrl('rediss://app:s3cret@cache.internal:6380/2');
 *   // { host: 'cache.internal', port: 6380, tls: true, username: 'app', password: 's3cret', database: 2 }
 *   describeRedis(target); // 'rediss://app@cache.internal:6380/2' (no password: safe to log)
 */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** SELECT'ed database number (0..). */
  readonly database: number;
}

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

export const DEFAULT_REDIS_PORT = 6379;

/** Parses `redis[s]://[[user][:password]@]host[:port][/db]`; throws `RedisUrlError` with the reason. */
export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisUrlError(`invalid redis URL "${text}"`);
  }
  const shown = describeUrl(url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RedisUrlError(`invalid redis URL "${shown}": must start with redis:// or rediss://`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new RedisUrlError(`invalid redis URL "${shown}": no host`);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new RedisUrlError(`invalid redis URL "${shown}": database must be a number, got "${path}"`);
  if (url.search !== '' || url.hash !== '') throw new RedisUrlError(`invalid redis URL "${shown}": query strings and fragments are not supported`);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return {
    host,
    port: url.port === '' ? DEFAULT_REDIS_PORT : Number(url.port),
    tls: url.protocol === 'rediss:',
    ...(username !== '' ? { username } : {}),
    ...(password !== '' ? { password } : {}),
    database: path === '' ? 0 : Number(path),
  };
}

function describeUrl(url: URL): string {
  const user = url.username !== '' ? `${url.username}@` : '';
  return `${url.protocol}//${user}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** The target as a URL without the password, for logs and error messages. */
export function describeRedis(target: RedisTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const user = target.username !== undefined ? `${encodeURIComponent(target.username)}@` : '';
  return `${target.tls ? 'rediss' : 'redis'}://${user}${host}:${target.port}/${target.database}`;
}
