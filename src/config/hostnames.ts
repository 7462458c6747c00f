import { isIP } from 'node:net';

/**
 * Host-name checks shared by services, routes, upstreams, targets and SNIs. Kong accepts
 * hostnames and IPs where a host is expected; routes and SNIs may use one wildcard label.
 */

const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

/** A DNS name (labels of letters, digits, `-`, `_`), without port. */
export function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed.split('.').every((label) => label.length <= 63 && LABEL.test(label));
}

/** Hostname or IP address (IPv6 with or without brackets). */
export function isHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) !== 0 || isHostname(bare);
}

/** Splits `host[:port]` / `[v6][:port]`; `port` is undefined when absent, NaN when not a number. */
export function splitHostPort(value: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (v6) return { host: `[${v6[1]}]`, ...(v6[2] !== undefined ? { port: portNumber(v6[2]) } : {}) };
  if (isIP(value) === 6) return { host: `[${value}]` };
  const colon = value.lastIndexOf(':');
  if (colon === -1) return { host: value };
  return { host: value.slice(0, colon), port: portNumber(value.slice(colon + 1)) };
}

function portNumber(text: string): number {
  return /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Why a wildcard-capable name (route host, SNI) is invalid, or undefined when it is fine:
 * at most one `*`, as the whole leftmost (`*.example.com`) or rightmost (`example.*`) label.
 */
export function wildcardHostProblem(name: string): string | undefined {
  const stars = name.split('*').length - 1;
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard';
  if (stars === 1) {
    const leftmost = name.startsWith('*.') && name.length > 2;
    const rightmost = name.endsWith('.*') && name.length > 2;
    if (!leftmost && !rightmost) return 'invalid wildcard: must be placed at leftmost or rightmost label';
    const rest = leftmost ? name.slice(2) : name.slice(0, -2);
    return isHostname(rest) ? undefined : `invalid hostname: ${name}`;
  }
  return isHost(name) ? undefined : `invalid hostname: ${name}`;
}
