import { BlockList, isIP } from 'node:net';

/**
 * Kong's `trusted_ips` + `real_ip_header` + `real_ip_recursive`, with nginx's realip module
 * semantics: only a trusted peer may tell us who the client is.
 */
export interface TrustedIps {
  /** True when `ip` (IPv4, IPv6, or IPv4-mapped IPv6) lies in one of the trusted ranges. */
  isTrusted(ip: string): boolean;
  /** True when no range is configured, so nothing is trusted (the common fast path). */
  readonly empty: boolean;
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * Canonical form of an address as seen from a socket or a header: IPv4-mapped IPv6 becomes
 * plain IPv4 (a dual-stack listener reports `::ffff:1.2.3.4` for IPv4 clients), brackets and
 * zone ids are dropped. Returns undefined when the text is not an IP address at all.
 */
export function normalizeIp(raw: string): string | undefined {
  let ip = raw.trim();
  if (ip.startsWith('[')) {
    const end = ip.indexOf(']');
    if (end < 0) return undefined;
    ip = ip.slice(1, end);
  }
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version !== 6) return undefined;
  const mapped = MAPPED_V4.exec(ip);
  return mapped?.[1] !== undefined && isIP(mapped[1]) === 4 ? mapped[1] : ip.toLowerCase();
}

/**
 * Compiles the configured ranges once into a node:net BlockList. Accepts plain addresses and
 * CIDRs of both families; `0.0.0.0/0` and `::/0` trust everyone, as in Kong. Throws on an
 * entry that is neither, so a typo in the node settings fails at startup.
 */
export function createTrustedIps(cidrs: readonly string[]): TrustedIps {
  const list = new BlockList();
  let count = 0;
  for (const entry of cidrs) {
    const text = entry.trim();
    if (text === '') continue;
    const slash = text.indexOf('/');
    const address = normalizeIp(slash < 0 ? text : text.slice(0, slash));
    if (address === undefined) throw new Error(`trusted_ips: invalid address or CIDR '${entry}'`);
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      list.addAddress(address, family);
    } else {
      const prefix = Number(text.slice(slash + 1));
      const max = family === 'ipv4' ? 32 : 128;
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new Error(`trusted_ips: invalid prefix length in '${entry}'`);
      }
      // A mapped-v4 CIDR (`::ffff:10.0.0.0/104`) arrives here as v4 with a v6 prefix length.
      const v4FromMapped = family === 'ipv4' && text.slice(0, slash).includes(':');
      list.addSubnet(address, v4FromMapped ? Math.max(0, prefix - 96) : prefix, family);
    }
    count++;
  }
  const empty = count === 0;
  return {
    empty,
    isTrusted(ip: string): boolean {
      if (empty) return false;
      const normalized = normalizeIp(ip);
      if (normalized === undefined) return false;
      return list.check(normalized, isIP(normalized) === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The client address per nginx's realip module. An untrusted peer is the client, whatever it
 * claims. A trusted peer's `realIpHeader` (lower-case name, default `x-real-ip`) is believed:
 * for `x-forwarded-for` the last address when `recursive` is off; with it on, the last
 * address that is not itself trusted (all trusted → the leftmost). A malformed entry stops the
 * walk and the last good address wins, as nginx declines on a bad address.
 */
export function resolveClientIp(
  peerIp: string,
  headers: HeaderBag,
  trusted: TrustedIps,
  realIpHeader = 'x-real-ip',
  recursive = false,
): string {
  const peer = normalizeIp(peerIp) ?? peerIp;
  if (trusted.empty || !trusted.isTrusted(peer)) return peer;
  const raw = headers[realIpHeader];
  if (raw === undefined) return peer;
  const value = typeof raw === 'string' ? raw : raw.join(',');
  const parts = value.split(',');
  let client = peer;
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!.trim();
    if (part === '' && i === parts.length - 1 && parts.length > 1) continue;
    const address = normalizeIp(part);
    if (address === undefined) return client;
    client = address;
    if (!recursive || !trusted.isTrusted(address)) return client;
  }
  return client;
}
