import type { Report } from '../check-route.ts';
import type { EntityNode, ServiceIn } from '../collect.ts';
import { isHost } from '../hostnames.ts';
import { entityId } from '../ids.ts';
import { EntityIndex, refText } from '../index-by-key.ts';
import { defaultPort, parseServiceUrl } from '../service-url.ts';
import type { Service, ServiceProtocol } from '../types.ts';
import { checkName, childKeys, label, type ResolveContext } from './context.ts';

export interface ResolvedServices {
  /** For routes and plugins that refer to a service. */
  readonly index: EntityIndex<unknown>;
  readonly services: Map<string, Service>;
}

/** What a service's TLS fields refer to. */
export interface TlsIndexes {
  readonly certificates: EntityIndex<unknown>;
  readonly caCertificates: EntityIndex<unknown>;
}

export function resolveServices(nodes: readonly EntityNode<ServiceIn>[], tls: TlsIndexes, ctx: ResolveContext): ResolvedServices {
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
    const service = buildService(node, tls, report);
    if (service) services.set(service.id, service);
  }
  return { index, services };
}

/** Expands `url`, applies the protocol-dependent port default and checks Kong's service rules. */
function buildService(node: EntityNode<ServiceIn>, tls: TlsIndexes, report: Report): Service | undefined {
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
  const upstreamTls = resolveUpstreamTls(v, protocol, tls, report);
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
    ...upstreamTls,
    tags: v.tags ?? [],
  };
}

const TLS_PROTOCOLS: readonly ServiceProtocol[] = ['https', 'grpcs', 'tls', 'wss'];
const TLS_FIELDS = ['tls_verify', 'tls_verify_depth', 'client_certificate', 'ca_certificates'] as const;

/** Kong's upstream TLS fields: only on TLS protocols, references to existing certificates. */
function resolveUpstreamTls(
  v: ServiceIn,
  protocol: ServiceProtocol,
  tls: TlsIndexes,
  report: Report,
): Pick<Service, 'tls_verify' | 'tls_verify_depth' | 'client_certificate' | 'ca_certificates'> {
  if (!TLS_PROTOCOLS.includes(protocol)) {
    for (const field of TLS_FIELDS) {
      if (v[field] !== undefined) report([field], `'${field}' can only be set when 'protocol' is 'https', 'grpcs', 'tls' or 'wss'`);
    }
    return {};
  }
  let clientCertificate: string | undefined;
  if (v.client_certificate !== undefined) {
    clientCertificate = tls.certificates.resolve(v.client_certificate, [])?.id;
    if (clientCertificate === undefined) {
      report(['client_certificate'], `invalid reference 'client_certificate: ${refText(v.client_certificate)}' (no such entry in 'certificates')`);
    }
  }
  const caIds: string[] = [];
  v.ca_certificates?.forEach((ref, i) => {
    const id = tls.caCertificates.resolve(ref, [])?.id;
    if (id === undefined) report(['ca_certificates', i], `invalid reference 'ca_certificates: ${ref}' (no such entry in 'ca_certificates')`);
    else caIds.push(id);
  });
  return {
    ...(v.tls_verify !== undefined ? { tls_verify: v.tls_verify } : {}),
    ...(v.tls_verify_depth !== undefined ? { tls_verify_depth: v.tls_verify_depth } : {}),
    ...(clientCertificate !== undefined ? { client_certificate: clientCertificate } : {}),
    ...(v.ca_certificates !== undefined ? { ca_certificates: caIds } : {}),
  };
}
