/**
 * Route `hosts` (and `snis`) entries, parsed once at build time. Kong compiles them to
 * `http.host == "h"`, `http.host =^ ".suffix"` (for `*.suffix`) and `http.host ^= "prefix."`
 * (for `prefix.*`), each optionally AND-ed with the destination port. A leftmost wildcard
 * covers any number of labels (`*.example.com` matches `a.b.example.com`), but not the bare
 * domain (`example.com`).
 */

export type HostPattern =
  | { readonly kind: 'exact'; readonly host: string; readonly port?: number }
  /** `*.example.com`, kept as `.example.com`. */
  | { readonly kind: 'suffix'; readonly suffix: string; readonly port?: number }
  /** `example.*`, kept as `example.`. */
  | { readonly kind: 'prefix'; readonly prefix: string; readonly port?: number };

/** Split `host:port` / `[v6]:port`; a bare IPv6 address has no port. */
function splitPort(raw: string): { host: string; port?: number } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(raw);
  if (bracketed) return bracketed[2] === undefined ? { host: bracketed[1] as string } : { host: bracketed[1] as string, port: Number(bracketed[2]) };
  const colon = raw.indexOf(':');
  if (colon < 0 || colon !== raw.lastIndexOf(':')) return { host: raw };
  const port = raw.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port)) throw new Error(`invalid port in host "${raw}"`);
  return { host: raw.slice(0, colon), port: Number(port) };
}

/** Parse one route host (or SNI). Lower-cases it and drops a trailing FQDN dot. */
export function parseHostPattern(raw: string): HostPattern {
  const { host: withDot, port } = splitPort(raw.trim().toLowerCase());
  const host = withDot.length > 1 && withDot.endsWith('.') ? withDot.slice(0, -1) : withDot;
  const portPart = port === undefined ? {} : { port };
  if (host.startsWith('*.')) return { kind: 'suffix', suffix: host.slice(1), ...portPart };
  if (host.endsWith('.*')) return { kind: 'prefix', prefix: host.slice(0, -1), ...portPart };
  if (host.includes('*')) throw new Error(`invalid wildcard host "${raw}": only the leftmost or rightmost label may be "*"`);
  return { kind: 'exact', host, ...portPart };
}

/** Whether a lower-cased request host (without port) and destination port satisfy the pattern. */
export function hostMatches(pattern: HostPattern, host: string, port: number | undefined): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  switch (pattern.kind) {
    case 'exact':
      return host === pattern.host;
    case 'suffix':
      return host.length > pattern.suffix.length && host.endsWith(pattern.suffix);
    case 'prefix':
      return host.length > pattern.prefix.length && host.startsWith(pattern.prefix);
  }
}
