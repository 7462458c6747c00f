import type { RouteIn } from './collect.ts';
import { wildcardHostProblem, splitHostPort } from './hostnames.ts';
import { compileHeaderRegex, compileRouteRegex } from './route-regex.ts';
import type { ConfigPath } from './source-map.ts';
import type { RouteProtocol } from './types.ts';

/**
 * Kong's route entity checks beyond the schema: protocol groups, "needs at least one of
 * methods/hosts/headers/paths", snis only with TLS protocols, path, host and header rules.
 */

export type Report = (subPath: ConfigPath, message: string, atKey?: boolean) => void;

const GROUPS: readonly (readonly RouteProtocol[])[] = [
  ['http', 'https'],
  ['tcp', 'tls', 'udp'],
  ['tls_passthrough'],
  ['grpc', 'grpcs'],
  ['ws', 'wss'],
];
const TLS_PROTOCOLS: readonly RouteProtocol[] = ['https', 'grpcs', 'tls', 'tls_passthrough', 'wss'];
const HTTP_LIKE: readonly RouteProtocol[] = ['http', 'https', 'grpc', 'grpcs', 'ws', 'wss'];

const nonEmpty = (list: readonly unknown[] | undefined | Readonly<Record<string, unknown>>): boolean =>
  list !== undefined && (Array.isArray(list) ? list.length > 0 : Object.keys(list).length > 0);

export interface RouteFacts {
  readonly headers?: Record<string, string[]>;
  readonly strip_path: boolean;
}

export function checkRoute(route: RouteIn, raw: Readonly<Record<string, unknown>>, report: Report): RouteFacts {
  const protocols = (route.protocols ?? ['http', 'https']) as RouteProtocol[];
  checkProtocols(protocols, report);

  const httpLike = protocols.some((p) => HTTP_LIKE.includes(p));
  const tls = protocols.some((p) => TLS_PROTOCOLS.includes(p));
  if (httpLike) {
    const fields = ['methods', 'hosts', 'headers', 'paths'];
    const hasSni = tls && nonEmpty(route.snis);
    if (!nonEmpty(route.methods) && !nonEmpty(route.hosts) && !nonEmpty(route.headers) && !nonEmpty(route.paths) && !hasSni) {
      if (tls) fields.push('snis');
      const which = protocols.includes('https') ? 'https' : (protocols[0] ?? 'http');
      report([], `must set one of ${fields.map((f) => `'${f}'`).join(', ')} when 'protocols' is '${which}'`);
    }
  } else if (!nonEmpty(route.snis)) {
    report([], `must set 'snis' when 'protocols' is '${protocols.join(', ')}' (sources/destinations are not supported)`);
  }
  if (nonEmpty(route.snis) && !tls) {
    report(['snis'], `'snis' can only be set when 'protocols' is one of ${TLS_PROTOCOLS.join(', ')}`, true);
  }

  route.methods?.forEach((m, i) => {
    if (m !== m.toUpperCase()) report(['methods', i], `invalid method "${m}": must be upper-case (e.g. ${m.toUpperCase()})`);
  });
  route.hosts?.forEach((h, i) => {
    const problem = hostProblem(h);
    if (problem) report(['hosts', i], problem);
  });
  route.paths?.forEach((p, i) => {
    const problem = pathProblem(p);
    if (problem) report(['paths', i], problem);
  });
  route.snis?.forEach((s, i) => {
    const problem = wildcardHostProblem(s);
    if (problem) report(['snis', i], problem);
  });

  const headers = route.headers ? checkHeaders(route.headers, report) : undefined;

  let strip_path = route.strip_path ?? true;
  if (protocols.some((p) => p === 'grpc' || p === 'grpcs')) {
    // Kong rejects strip_path on gRPC routes; only an explicit `true` is an error here.
    if (raw.strip_path === true) report(['strip_path'], "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'");
    strip_path = false;
  }
  return { ...(headers ? { headers } : {}), strip_path };
}

function checkProtocols(protocols: readonly RouteProtocol[], report: Report): void {
  const groups = new Set(protocols.map((p) => GROUPS.findIndex((g) => g.includes(p))));
  if (groups.size > 1) {
    report(['protocols'], `protocols ${protocols.join(', ')} cannot be mixed: use one of ${GROUPS.map((g) => `{${g.join(', ')}}`).join(' ')}`);
  }
}

function hostProblem(value: string): string | undefined {
  const { host, port } = splitHostPort(value);
  if (port !== undefined && !(port >= 1 && port <= 65535)) return `invalid port in host "${value}": must be 1..65535`;
  return wildcardHostProblem(host);
}

/** Why a route path is invalid: regex paths must compile, plain ones must be normalized prefixes. */
export function pathProblem(path: string): string | undefined {
  if (path.startsWith('~')) {
    try {
      compileRouteRegex(path);
      return undefined;
    } catch (err) {
      return `invalid regex "${path.slice(1)}": ${regexReason(err)}`;
    }
  }
  if (!path.startsWith('/')) return `invalid path "${path}": must begin with '/' (or '~' for a regex)`;
  if (path.includes('//')) return `invalid path "${path}": must not contain '//'`;
  if (/\/\.\.?(\/|$)/.test(path)) return `invalid path "${path}": not normalized (remove '.' and '..' segments)`;
  return undefined;
}

function checkHeaders(headers: Readonly<Record<string, string[]>>, report: Report): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (name.toLowerCase() === 'host') {
      report(['headers', name], "cannot contain 'host' header, which must be specified in the 'hosts' attribute", true);
      continue;
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      report(['headers', name], `invalid header name "${name}"`, true);
      continue;
    }
    values.forEach((v, i) => {
      if (!v.startsWith('~*')) return;
      try {
        compileHeaderRegex(v);
      } catch (err) {
        report(['headers', name, i], `invalid regex "${v.slice(2)}": ${regexReason(err)}`);
      }
    });
    const key = name.toLowerCase();
    out[key] = [...(out[key] ?? []), ...values];
  }
  return out;
}

/** V8's "Invalid regular expression: /src/flags: reason" without the echoed source. */
function regexReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}
