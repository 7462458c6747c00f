import type { Report } from '../check-route.ts';
import type { EntityNode, ServiceIn } from '../collect.ts';
import { isHost } from '../hostnames.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import { defaultPort, parseServiceUrl } from '../service-url.ts';
import type { Service, ServiceProtocol } from '../types.ts';
import { checkName, childKeys, label, type ResolveContext } from './context.ts';

export interface ResolvedServices {
  /** For routes and plugins that refer to a service. */
  readonly index: EntityIndex<unknown>;
  readonly services: Map<string, Service>;
}

export function resolveServices(nodes: readonly EntityNode<ServiceIn>[], ctx: ResolveContext): ResolvedServices {
  const index = new EntityIndex<unknown>('services', ctx.sink);
  const services = new Map<string, Service>();
  for (const node of nodes) {
    const v = node.value;
    const entity = label('service', v.name);
    node.id = entityId('services', v.id, v.name ?? `content:${ctx.content.key(childKeys(node.raw, ['routes', 'plugins']))}`);
    index.addId(node, entity);
    if (v.name !== undefined) index.addKey(node, 'name', v.name, entity);
    if (!node.usable) continue;
    const report = ctx.reportFor(node, entity);
    checkName(report, 'name', v.name);
    const service = buildService(node, report);
    if (service) services.set(service.id, service);
  }
  return { index, services };
}

/** Expands `url`, applies the protocol-dependent port default and checks Kong's service rules. */
function buildService(node: EntityNode<ServiceIn>, report: Report): Service | undefined {
  const v = node.value;
  let protocol: ServiceProtocol = v.protocol ?? 'http';
  let host = v.host;
  let port = v.port;
  let path = v.path;
  if (v.url !== undefined) {
    const clash = (['protocol', 'host', 'port', 'path'] as const).filter((f) => node.raw[f] !== undefined);
    if (clash.length > 0) report([clash[0]!], `'url' cannot be combined with ${clash.map((f) => `'${f}'`).join(', ')}`, true);
    const parts = parseServiceUrl(v.url);
    if (typeof parts === 'string') {
      report(['url'], parts);
      return undefined;
    }
    ({ protocol, host, port, path } = { ...parts });
  }
  if (host === undefined) {
    report([], "missing required field 'host' (or 'url')");
    return undefined;
  }
  if (!isHost(host)) report([v.url !== undefined ? 'url' : 'host'], `invalid host "${host}"`);
  const pathField = v.url !== undefined ? 'url' : 'path';
  if (path !== undefined) {
    if (!['http', 'https', 'ws', 'wss'].includes(protocol)) {
      report([pathField], `'path' can only be set when 'protocol' is 'http', 'https', 'ws' or 'wss'`);
    } else if (!path.startsWith('/')) {
      report([pathField], `invalid path "${path}": must begin with '/'`);
    } else if (path.includes('//')) {
      report([pathField], `invalid path "${path}": must not contain '//'`);
    }
  }
  if (v.tls_verify !== undefined && !['https', 'grpcs', 'tls', 'wss'].includes(protocol)) {
    report(['tls_verify'], `'tls_verify' can only be set when 'protocol' is 'https', 'grpcs', 'tls' or 'wss'`);
  }
  return {
    id: node.id,
    ...(v.name !== undefined ? { name: v.name } : {}),
    protocol,
    host,
    port: port ?? defaultPort(protocol),
    ...(path !== undefined ? { path } : {}),
    retries: v.retries ?? 5,
    connect_timeout: v.connect_timeout ?? 60000,
    write_timeout: v.write_timeout ?? 60000,
    read_timeout: v.read_timeout ?? 60000,
    enabled: v.enabled ?? true,
    ...(v.tls_verify !== undefined ? { tls_verify: v.tls_verify } : {}),
    tags: v.tags ?? [],
  };
}
