import { isIP } from 'node:net';
import { normalizeIp } from '../../../proxy/trusted-ips.ts';

/**
 * A set of IPs and CIDRs compiled for O(number of distinct prefix lengths) lookups, whatever
 * the list size: each family keeps, per prefix length, a Set of network numbers. (node:net's
 * BlockList, used as the reference in the property tests, scans its rules one by one.)
 *
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`, in either spelling) is IPv4 on both sides: a client
 * reported as `::ffff:10.1.2.3` matches `10.0.0.0/8`, and `::ffff:10.0.0.0/104` is
 * `10.0.0.0/8`. An IPv6 range wider than /96 that covers the whole mapped block (`::/0`,
 * `::/80`) also covers every IPv4 address, as it does for BlockList.
 */
export interface IpMatcher {
  readonly size: number;
  contains(ip: ParsedIp): boolean;
}

/** An address as numbers: IPv4 as an unsigned 32-bit integer, IPv6 as a 128-bit bigint. */
export type ParsedIp = { readonly v4: number; readonly v6?: undefined } | { readonly v6: bigint; readonly v4?: undefined };

const MAPPED_PREFIX = 0xffffn << 32n;
const V4_SPACE = 1n << 32n;

/** Parses an address as seen from a socket or a header; undefined when it is not an IP. */
export function parseIp(text: string): ParsedIp | undefined {
  const ip = normalizeIp(text);
  if (ip === undefined) return undefined;
  if (isIP(ip) === 4) return { v4: parseV4(ip) };
  const v6 = parseV6(ip);
  return v6 - MAPPED_PREFIX >= 0n && v6 - MAPPED_PREFIX < V4_SPACE ? { v4: Number(v6 - MAPPED_PREFIX) } : { v6 };
}

/** Dotted quad (already validated) → unsigned 32-bit integer. */
function parseV4(ip: string): number {
  let value = 0;
  let part = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return value * 256 + part;
}

/** Validated IPv6 text (with `::` and an optional dotted tail) → 128-bit bigint. */
function parseV6(ip: string): bigint {
  const groups = (half: string): number[] => {
    if (half === '') return [];
    const out: number[] = [];
    for (const piece of half.split(':')) {
      if (piece.includes('.')) {
        const v4 = parseV4(piece);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const gap = ip.indexOf('::');
  const head = groups(gap < 0 ? ip : ip.slice(0, gap));
  const tail = gap < 0 ? [] : groups(ip.slice(gap + 2));
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  let value = 0n;
  for (const group of all) value = (value << 16n) | BigInt(group);
  return value;
}

interface Family<N> {
  /** Prefix length → network numbers, each shifted right by (bits − length). */
  readonly byLength: Map<number, Set<N>>;
}

/**
 * Compiles Kong `ip_or_cidr` entries (`10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32`,
 * `::ffff:10.0.0.0/104`). Host bits below the prefix are ignored, as in Kong and BlockList.
 * Throws with the offending entry when one is not an address or has a bad prefix length.
 */
export function compileIpMatcher(entries: readonly string[]): IpMatcher {
  const v4: Family<number> = { byLength: new Map() };
  const v6: Family<bigint> = { byLength: new Map() };
  let allV4 = false;
  const addV4 = (network: number, length: number) => {
    const key = length === 0 ? 0 : Math.floor(network / 2 ** (32 - length));
    let set = v4.byLength.get(length);
    if (!set) v4.byLength.set(length, (set = new Set()));
    set.add(key);
  };
  for (const entry of entries) {
    const text = entry.trim();
    const slash = text.indexOf('/');
    const addressText = slash < 0 ? text : text.slice(0, slash);
    const address = parseIp(addressText);
    if (address === undefined || addressText.includes('%') || addressText.startsWith('[')) {
      throw new Error(`invalid ip or cidr range: '${entry}'`);
    }
    const writtenV6 = addressText.includes(':');
    const bits = writtenV6 ? 128 : 32;
    const lengthText = slash < 0 ? String(bits) : text.slice(slash + 1);
    const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!(length >= 0 && length <= bits)) throw new Error(`invalid ip or cidr range: '${entry}'`);
    if (address.v4 !== undefined) {
      // IPv4, or mapped IPv6 whose prefix reaches into the IPv4 part.
      if (!writtenV6) addV4(address.v4, length);
      else if (length >= 96) addV4(address.v4, length - 96);
      else addV6(v6, MAPPED_PREFIX + BigInt(address.v4), length, () => (allV4 = true));
    } else {
      addV6(v6, address.v6, length, () => (allV4 = true));
    }
  }
  const v4Lengths = [...v4.byLength].map(([length, set]) => ({ shift: 2 ** (32 - length), all: length === 0, set }));
  const v6Lengths = [...v6.byLength].map(([length, set]) => ({ shift: BigInt(128 - length), set }));
  return {
    size: entries.length,
    contains(ip: ParsedIp): boolean {
      if (ip.v4 !== undefined) {
        if (allV4) return true;
        for (const { shift, all, set } of v4Lengths) if (set.has(all ? 0 : Math.floor(ip.v4 / shift))) return true;
        return false;
      }
      for (const { shift, set } of v6Lengths) if (set.has(ip.v6 >> shift)) return true;
      return false;
    },
  };
}

/** Adds an IPv6 range; `coversV4` is called when it contains the whole IPv4-mapped block. */
function addV6(v6: Family<bigint>, network: bigint, length: number, coversV4: () => void): void {
  const shift = BigInt(128 - length);
  const key = network >> shift;
  if (length <= 96 && key === MAPPED_PREFIX >> shift) coversV4();
  let set = v6.byLength.get(length);
  if (!set) v6.byLength.set(length, (set = new Set()));
  set.add(key);
}
