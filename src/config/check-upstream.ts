import { isIP } from 'node:net';
import type { Report } from './check-route.ts';
import type { UpstreamIn } from './collect.ts';
import { isHost, isHostname, splitHostPort } from './hostnames.ts';
import type { ActiveHealthcheck, PassiveHealthcheck, Upstream } from './types.ts';

type HashOn = NonNullable<UpstreamIn['hash_on']>;
type HashField = 'hash_on_header' | 'hash_on_cookie' | 'hash_on_query_arg' | 'hash_on_uri_capture';
type FallbackField = 'hash_fallback_header' | 'hash_fallback_query_arg' | 'hash_fallback_uri_capture';
const ON_FIELDS: Partial<Record<HashOn, HashField>> = {
  header: 'hash_on_header',
  cookie: 'hash_on_cookie',
  query_arg: 'hash_on_query_arg',
  uri_capture: 'hash_on_uri_capture',
};
const FALLBACK_FIELDS: Partial<Record<HashOn, FallbackField>> = {
  header: 'hash_fallback_header',
  query_arg: 'hash_fallback_query_arg',
  uri_capture: 'hash_fallback_uri_capture',
};

/**
 * Upstream rules beyond the schema (Kong's `upstreams.lua` entity checks): the name is a
 * hostname, each `hash_on` kind names its header/cookie/query arg/capture, and the fallback
 * is `none` when hashing on nothing or on a cookie.
 */
export function checkUpstream(id: string, v: UpstreamIn, report: Report): Omit<Upstream, 'targets'> {
  if (isIP(v.name) !== 0) report(['name'], `invalid upstream name "${v.name}": must be a hostname, not an IP address`);
  else if (v.name.includes(':')) report(['name'], `invalid upstream name "${v.name}": must not have a port`);
  else if (!isHostname(v.name)) report(['name'], `invalid upstream name "${v.name}": must be a valid hostname`);

  const hashOn = v.hash_on ?? 'none';
  const fallback = v.hash_fallback ?? 'none';
  const onField = ON_FIELDS[hashOn];
  if (onField && v[onField] === undefined) report([], `'${onField}' is required when 'hash_on' is '${hashOn}'`);
  if ((hashOn === 'none' || hashOn === 'cookie') && fallback !== 'none') {
    report(['hash_fallback'], `must be 'none' when 'hash_on' is '${hashOn}'`);
  } else if (fallback === 'cookie') {
    report(['hash_fallback'], "'cookie' is not allowed as a fallback");
  } else {
    const fallbackField = FALLBACK_FIELDS[fallback];
    if (fallbackField && v[fallbackField] === undefined) report([], `'${fallbackField}' is required when 'hash_fallback' is '${fallback}'`);
    if (fallback !== 'none' && fallback === hashOn && !fallbackField) report(['hash_fallback'], "must be different from 'hash_on'");
  }

  // Every level defaults to {} in the schema, so after defaulting all fields are present.
  const hc = v.healthchecks as unknown as { active: ActiveHealthcheck; passive: PassiveHealthcheck; threshold: number };
  return {
    id,
    name: v.name,
    algorithm: v.algorithm ?? 'round-robin',
    hash_on: hashOn,
    hash_fallback: fallback,
    ...pick(v, [
      'hash_on_header', 'hash_fallback_header', 'hash_on_cookie', 'hash_on_query_arg', 'hash_fallback_query_arg',
      'hash_on_uri_capture', 'hash_fallback_uri_capture', 'host_header',
    ]),
    hash_on_cookie_path: v.hash_on_cookie_path ?? '/',
    slots: v.slots ?? 10000,
    healthchecks: hc,
    tags: v.tags ?? [],
  };
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** `host[:port]` → normalized `host:port` (port 8000 when omitted, as Kong), or a message. */
export function parseTarget(value: string): { target: string } | string {
  const { host, port } = splitHostPort(value);
  if (!isHost(host)) return `invalid target "${value}": expected <host>[:<port>]`;
  if (port !== undefined && !(port >= 1 && port <= 65535)) return `invalid target "${value}": port must be 1..65535`;
  return { target: `${host}:${port ?? 8000}` };
}
