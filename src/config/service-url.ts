import { PROTOCOLS } from './schema/common.ts';
import type { ServiceProtocol } from './types.ts';

/**
 * Kong's `url` shorthand on a service: `https://api.internal:8443/v1` becomes
 * protocol/host/port/path. Parsed by hand rather than with WHATWG `URL` so `http://x` keeps
 * "no path" (URL would invent `/`) and the port default follows the scheme.
 */

export interface ServiceUrlParts {
  readonly protocol: ServiceProtocol;
  readonly host: string;
  readonly port?: number;
  readonly path?: string;
}

const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::([^/?#]*))?([^?#]*)(.*)$/;

/** Parses a service url, or returns a message saying what is wrong with it. */
export function parseServiceUrl(url: string): ServiceUrlParts | string {
  const m = URL_RE.exec(url);
  if (!m) return `invalid url "${url}": expected <protocol>://<host>[:<port>][/<path>]`;
  const [, scheme = '', host = '', portText, path = '', rest = ''] = m;
  const protocol = scheme.toLowerCase();
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    return `invalid url "${url}": unsupported protocol '${protocol}' (expected one of ${PROTOCOLS.join(', ')})`;
  }
  if (host === '') return `invalid url "${url}": missing host`;
  if (rest !== '') return `invalid url "${url}": query strings and fragments are not allowed`;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `invalid url "${url}": port must be 0..65535`;
    port = Number(portText);
  }
  return {
    protocol: protocol as ServiceProtocol,
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    ...(port !== undefined ? { port } : {}),
    ...(path !== '' ? { path } : {}),
  };
}

/** Kong: port 80, or 443 when the scheme is a TLS one. */
export function defaultPort(protocol: ServiceProtocol): number {
  return protocol === 'https' || protocol === 'grpcs' || protocol === 'tls' || protocol === 'wss' ? 443 : 80;
}
