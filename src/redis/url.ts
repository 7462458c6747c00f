/**
 * Redis connection targets: a URL (or Kong-style fields) parsed into what a client needs. No
 * Redis client is loaded here, so settings can validate URLs cheaply; `connect.ts` makes clients.
 *
 * A Redis Cluster is chosen by the scheme, `redis+cluster://` (or `rediss+cluster://` for TLS),
 * with one or more seed nodes separated by commas; the rest of the topology is discovered.
 * Credentials and TLS apply to every node; a cluster has only database 0.
 *
 * @example
 *   const target = parseRedisUrl('rediss://app:s3cret@cache.internal:6380/2');
 *   // { host: 'cache.internal', port: 6380, tls: true, username: 'app', password: 's3cret', database: 2 }
 *   describeRedis(target); // 'rediss://app@cache.internal:6380/2' (no password: safe to log)
 *   parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7000').cluster;
 *   // [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }]
 */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisTarget {
  /** The (first seed) node. */
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** SELECT'ed database number (0..); always 0 for a cluster. */
  readonly database: number;
  /** Set for a Redis Cluster: the seed nodes (`host`/`port` is the first). */
  readonly cluster?: readonly RedisNodeAddress[];
}

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

export const DEFAULT_REDIS_PORT = 6379;

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]*)(.*)$/s;

/**
 * Parses `redis[s]://[[user][:password]@]host[:port][/db]` or
 * `redis[s]+cluster://[[user][:password]@]host[:port][,host[:port]…][/0]`; throws
 * `RedisUrlError` with the reason (never the password).
 */
export function parseRedisUrl(text: string): RedisTarget {
  const cluster = CLUSTER_SCHEME.exec(text);
  if (cluster !== null) return parseClusterUrl(text, cluster);
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

/** One URL per seed node, each checked by the single-node parser, then folded into one target. */
function parseClusterUrl(text: string, [, scheme, auth, hosts, rest]: RegExpExecArray): RedisTarget {
  const user = auth === undefined ? '' : `${auth}@`;
  const shown = `${scheme}+cluster://${auth === undefined ? '' : `${(auth.split(':')[0] ?? '')}@`}${hosts}${(rest ?? '').replace(/[?#].*$/s, '')}`;
  if (hosts === undefined || hosts === '') throw new RedisUrlError(`invalid redis URL "${shown}": no host`);
  const seeds = hosts.split(',').map((host) => {
    try {
      return parseRedisUrl(`${scheme}://${user}${host}${rest ?? ''}`);
    } catch (e) {
      // The inner message quotes the per-node URL (with the password): keep only the reason.
      const why = (e instanceof Error ? /^invalid redis URL "[^"]*": (.*)$/s.exec(e.message)?.[1] : undefined) ?? 'not a valid host:port';
      throw new RedisUrlError(`invalid redis URL "${shown}": ${host === '' ? 'empty node address' : `node "${host}": ${why}`}`);
    }
  });
  const first = seeds[0] as RedisTarget;
  if (first.database !== 0) throw new RedisUrlError(`invalid redis URL "${shown}": a Redis Cluster has only database 0`);
  return { ...first, cluster: seeds.map(({ host, port }) => ({ host, port })) };
}

function describeUrl(url: URL): string {
  const user = url.username !== '' ? `${url.username}@` : '';
  return `${url.protocol}//${user}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** The target as a URL without the password, for logs and error messages. */
export function describeRedis(target: RedisTarget): string {
  const address = ({ host, port }: RedisNodeAddress) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const user = target.username !== undefined ? `${encodeURIComponent(target.username)}@` : '';
  const scheme = target.tls ? 'rediss' : 'redis';
  if (target.cluster !== undefined) return `${scheme}+cluster://${user}${target.cluster.map(address).join(',')}`;
  return `${scheme}://${user}${address(target)}/${target.database}`;
}
