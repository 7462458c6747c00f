/**
 * The generic value parsers of node settings: booleans, nginx sizes, counts, durations, IP/CIDR
 * lists, header and plugin names, the engine and the worker count. Each throws a plain Error
 * with the reason; the settings resolver adds where the value came from
 * (`SLUICE_CLIENT_MAX_BODY_SIZE: invalid size "ten" ...`).
 *
 * @example
 *   parseSize('16k'); // 16384
 *   parseBoolean('off'); // false
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';

/** Comma-separated IPs and CIDRs (v4 and v6), validated with node:net. */
export function parseCidrList(value: string): string[] {
  if (value.trim().toLowerCase() === 'off') return [];
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((entry) => {
      const [ip = '', prefix, extra] = entry.split('/');
      const family = isIP(ip);
      if (family === 0 || extra !== undefined) throw new Error(`invalid IP or CIDR "${entry}"`);
      if (prefix !== undefined) {
        const bits = family === 4 ? 32 : 128;
        if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) throw new Error(`invalid CIDR "${entry}": prefix must be 0..${bits}`);
      }
      return entry;
    });
}

export function parseRealIpHeader(value: string): string {
  if (value.toLowerCase() === 'proxy_protocol') {
    throw new Error('real_ip_header "proxy_protocol" is not supported; use a header set by the load balancer (e.g. X-Forwarded-For)');
  }
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw new Error(`invalid header name "${value}"`);
  return value.toLowerCase();
}

export function parseBoolean(value: string): boolean {
  const v = value.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new Error(`invalid boolean "${value}" (use on or off)`);
}

/** nginx sizes: `512`, `16k`, `8m`, `1g` → bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(value);
  if (!m) throw new Error(`invalid size "${value}" (bytes, or a number with k, m or g)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** A whole number in `min..max`. */
export function parseCount(value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new Error(`invalid number "${value}" (a whole number from ${min} to ${max})`);
  return Number(value);
}

/** HTTP/2 SETTINGS values are 32-bit; a header list under 1k would refuse ordinary requests. */
export function parseHeaderListSize(value: string): number {
  const size = parseSize(value);
  if (size < 1024 || size > 2 ** 32 - 1) throw new Error(`invalid size "${value}" (from 1k to 4g - 1)`);
  return size;
}

export function parseSeconds(value: string): number {
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(value);
  if (!m) throw new Error(`invalid duration "${value}" (seconds)`);
  return Number(m[1]);
}

export function parsePluginList(value: string): string[] {
  if (value.trim().toLowerCase() === 'off') return [];
  const names = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  for (const n of names) if (!/^[a-z0-9][a-z0-9_-]*$/i.test(n)) throw new Error(`invalid plugin name "${n}"`);
  return names;
}

export function parseEngine(value: string): 'memory' | 'redis' {
  const v = value.toLowerCase();
  if (v === 'memory' || v === 'redis') return v;
  throw new Error(`invalid engine "${value}" (use memory or redis)`);
}

export const MAX_WORKERS = 64;

/** `4` → 4; `auto` → one per core the process may use. */
export function parseWorkers(value: string): number {
  if (value.toLowerCase() === 'auto') return Math.min(MAX_WORKERS, availableParallelism());
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) {
    throw new Error(`invalid workers "${value}" (a number from 1 to ${MAX_WORKERS}, or auto)`);
  }
  return Number(value);
}
