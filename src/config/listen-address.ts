/**
 * The listener syntax of `proxy_listen`, `admin_listen`, `internal_listen` and `status_listen`
 * (Kong's): comma-separated `host:port` / `[v6]:port` entries with optional `ssl` and `http2`
 * flags, or `off`. Throws a plain Error with the reason; the settings resolver adds where the
 * value came from.
 *
 * @example
 *   parseListen('0.0.0.0:8000, [::1]:8443 ssl http2');
 *   // [{ host: '0.0.0.0', port: 8000 }, { host: '::1', port: 8443, ssl: true, http2: true }]
 */
import { isIP } from 'node:net';
import { isHostname } from './hostnames.ts';

/** One address a listener binds; same shape as the gateway's `ListenAddress`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly ssl?: boolean;
  readonly http2?: boolean;
}

const LISTEN_FLAGS = new Set(['ssl', 'http2']);

/** `0.0.0.0:8000, [::1]:8443 ssl http2` → addresses; `off` → none. */
export function parseListen(value: string): ListenAddress[] {
  if (value.trim().toLowerCase() === 'off') return [];
  return value.split(',').map((entry) => {
    const [address = '', ...flags] = entry.trim().split(/\s+/);
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
    if (!m) throw new Error(`invalid listen address "${entry.trim()}": expected host:port or [ipv6]:port, or off`);
    const host = m[1] ?? m[2] ?? '';
    const port = Number(m[3]);
    if (m[1] !== undefined && isIP(host) !== 6) throw new Error(`invalid listen address "${address}": "${host}" is not an IPv6 address`);
    if (m[2] !== undefined && isIP(host) === 0 && !isHostname(host)) throw new Error(`invalid listen address "${address}": bad host "${host}"`);
    if (port > 65535) throw new Error(`invalid listen address "${address}": port must be 0..65535`);
    const out: { host: string; port: number; ssl?: boolean; http2?: boolean } = { host, port };
    for (const flag of flags) {
      if (!LISTEN_FLAGS.has(flag)) throw new Error(`invalid listen flag "${flag}" in "${entry.trim()}" (supported: ssl, http2)`);
      out[flag as 'ssl' | 'http2'] = true;
    }
    return out;
  });
}
