import { createHash, randomBytes } from 'node:crypto';
import type { PluginRegistry } from '../plugins/registry.ts';
import { canonicalJson } from './canonical.ts';
import { checkCertificate, publicKeyProblem } from './check-certificate.ts';
import { checkRoute, type Report } from './check-route.ts';
import { pcreNamedGroups } from './route-regex.ts';
import { checkUpstream, parseTarget } from './check-upstream.ts';
import type { Collected, CredentialIn, EntityNode, PluginIn, ServiceIn } from './collect.ts';
import type { ErrorSink } from './errors.ts';
import { isHost, wildcardHostProblem } from './hostnames.ts';
import { entityId } from './ids.ts';
import { EntityIndex, refText } from './index-by-key.ts';
import { CREDENTIAL_KINDS, type CredentialKind } from './schema/credentials.ts';
import { PLUGIN_DEFAULT_PROTOCOLS } from './schema/plugin.ts';
import { defaultPort, parseServiceUrl } from './service-url.ts';
import type {
  Certificate,
  Consumer,
  Credential,
  HttpsRedirectStatus,
  PluginInstance,
  Route,
  RouteProtocol,
  Service,
  ServiceProtocol,
  Sni,
  Snapshot,
  Target,
  Upstream,
} from './types.ts';

/**
 * Second pass of the loader: gives every entity its id, resolves foreign keys (nesting,
 * names, ids), enforces Kong's uniqueness and cross-field rules and builds the immutable
 * {@link Snapshot}. Every problem goes to the sink; the snapshot is only returned when
 * there were none (including the first pass's schema errors).
 */

export interface ResolveOptions {
  readonly sink: ErrorSink;
  readonly registry: PluginRegistry;
  /** `_transform`: hash basic-auth passwords as Kong does (SHA-1 of password ‖ consumer id). */
  readonly transform: boolean;
  readonly hash: string;
}

const NAME_RE = /^[\p{L}\p{N}._~-]+$/u;
const NAME_MESSAGE = "it must only contain alphanumeric and '., -, _, ~' characters";

function label(type: string, name: unknown): string | undefined {
  return typeof name === 'string' ? `${type} "${name}"` : undefined;
}

function childKeys(raw: Readonly<Record<string, unknown>>, children: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!children.includes(k) && k !== '_comment') out[k] = v;
  return out;
}

/** A stable key for an entity that has no name: its own content, numbered among equals. */
class ContentKeys {
  readonly #seen = new Map<string, number>();
  key(parts: unknown): string {
    const text = canonicalJson(parts);
    const n = (this.#seen.get(text) ?? 0) + 1;
    this.#seen.set(text, n);
    return `${createHash('sha1').update(text).digest('hex')}#${n}`;
  }
}

export function resolveSnapshot(collected: Collected, options: ResolveOptions): Snapshot | undefined {
  const { sink, registry } = options;
  const content = new ContentKeys();
  const reporter =
    (node: EntityNode<unknown>, entity: string | undefined): Report =>
    (sub, message, atKey) =>
      sink.add([...node.path, ...sub], message, { ...(entity ? { entity } : {}), ...(atKey ? { atKey } : {}) });

  const checkName = (node: EntityNode<unknown>, name: string | undefined, field: string, entity: string | undefined) => {
    if (name !== undefined && !NAME_RE.test(name)) reporter(node, entity)([field], `invalid value '${name}': ${NAME_MESSAGE}`);
  };

  // --- services -------------------------------------------------------------------------------
  const services = new EntityIndex<unknown>('services', sink);
  const builtServices = new Map<string, Service>();
  for (const node of collected.services) {
    const v = node.value;
    const entity = label('service', v.name);
    node.id = entityId('services', v.id, v.name ?? `content:${content.key(childKeys(node.raw, ['routes', 'plugins']))}`);
    services.addId(node, entity);
    if (v.name !== undefined) services.addKey(node, 'name', v.name, entity);
    if (!node.usable) continue;
    checkName(node, v.name, 'name', entity);
    const service = buildService(node as EntityNode<typeof v>, reporter(node, entity));
    if (service) builtServices.set(service.id, service);
  }

  // --- upstreams & targets --------------------------------------------------------------------
  const upstreams = new EntityIndex<unknown>('upstreams', sink);
  const builtUpstreams = new Map<string, { node: EntityNode<unknown>; upstream: Omit<Upstream, 'targets'>; targets: Target[] }>();
  for (const node of collected.upstreams) {
    const v = node.value;
    const entity = label('upstream', v.name);
    node.id = entityId('upstreams', v.id, v.name);
    upstreams.addId(node, entity);
    if (typeof v.name === 'string') upstreams.addKey(node, 'name', v.name, entity);
    if (!node.usable) continue;
    const upstream = checkUpstream(node.id, v, reporter(node, entity));
    builtUpstreams.set(node.id, { node, upstream, targets: [] });
  }
  const targetKeys = new EntityIndex<unknown>('targets', sink);
  for (const node of collected.targets) {
    const v = node.value;
    const entity = label('target', v.target);
    const report = reporter(node, entity);
    const parent = node.parent ?? (node.usable ? upstreams.resolve(v.upstream!, ['name']) : undefined);
    if (!node.parent && node.usable && !parent) {
      report(['upstream'], `invalid reference 'upstream: ${refText(v.upstream!)}' (no such entry in 'upstreams')`);
    }
    const target = typeof v.target === 'string' ? parseTarget(v.target) : undefined;
    if (typeof target === 'string') report(['target'], target);
    node.id = entityId('targets', v.id, parent && typeof target === 'object' ? `${parent.id}:${target.target}` : undefined);
    targetKeys.addId(node, entity);
    if (!node.usable || !parent || typeof target !== 'object') continue;
    targetKeys.addKey(node, 'target', `${parent.id} ${target.target}`, entity, [...node.path, 'target']);
    builtUpstreams.get(parent.id)?.targets.push({
      id: node.id,
      target: target.target,
      weight: v.weight ?? 100,
      upstream: parent.id,
      tags: v.tags ?? [],
    });
  }

  // --- consumers ------------------------------------------------------------------------------
  const consumers = new EntityIndex<unknown>('consumers', sink);
  const builtConsumers = new Map<string, Consumer>();
  for (const node of collected.consumers) {
    const v = node.value;
    const entity = label('consumer', v.username ?? v.custom_id);
    const key = v.username !== undefined ? `username:${v.username}` : v.custom_id !== undefined ? `custom_id:${v.custom_id}` : undefined;
    node.id = entityId('consumers', v.id, key);
    consumers.addId(node, entity);
    if (typeof v.username === 'string') consumers.addKey(node, 'username', v.username, entity);
    if (typeof v.custom_id === 'string') consumers.addKey(node, 'custom_id', v.custom_id, entity);
    if (!node.usable) continue;
    if (v.username === undefined && v.custom_id === undefined) {
      reporter(node, entity)([], "at least one of these fields must be non-empty: 'custom_id', 'username'");
      continue;
    }
    builtConsumers.set(node.id, {
      id: node.id,
      ...(v.username !== undefined ? { username: v.username } : {}),
      ...(v.custom_id !== undefined ? { custom_id: v.custom_id } : {}),
      tags: v.tags ?? [],
    });
  }

  // --- certificates & snis --------------------------------------------------------------------
  const certificates = new EntityIndex<unknown>('certificates', sink);
  const builtCerts = new Map<string, { cert: Omit<Certificate, 'snis'>; snis: string[] }>();
  for (const node of collected.certificates) {
    const v = node.value;
    node.id = entityId('certificates', v.id, typeof v.cert === 'string' ? `cert:${createHash('sha256').update(v.cert).digest('hex')}` : undefined);
    certificates.addId(node, undefined);
    if (!node.usable) continue;
    checkCertificate(v, reporter(node, undefined));
    builtCerts.set(node.id, {
      cert: {
        id: node.id,
        cert: v.cert,
        key: v.key,
        ...(v.cert_alt !== undefined ? { cert_alt: v.cert_alt } : {}),
        ...(v.key_alt !== undefined ? { key_alt: v.key_alt } : {}),
        tags: v.tags ?? [],
      },
      snis: [],
    });
  }
  const snis = new EntityIndex<unknown>('snis', sink);
  const builtSnis: Sni[] = [];
  for (const node of collected.snis) {
    const v = node.value;
    const entity = label('sni', v.name);
    const report = reporter(node, entity);
    node.id = entityId('snis', v.id, typeof v.name === 'string' ? v.name.toLowerCase() : undefined);
    snis.addId(node, entity);
    if (typeof v.name === 'string') snis.addKey(node, 'name', v.name.toLowerCase(), entity);
    if (!node.usable) continue;
    const problem = wildcardHostProblem(v.name);
    if (problem) report(['name'], problem);
    const parent = node.parent ?? (v.certificate !== undefined ? certificates.resolve(v.certificate, []) : undefined);
    if (!parent) {
      report(['certificate'], `invalid reference 'certificate: ${refText(v.certificate!)}' (no such entry in 'certificates')`);
      continue;
    }
    builtSnis.push({ id: node.id, name: v.name, certificate: parent.id, tags: v.tags ?? [] });
    builtCerts.get(parent.id)?.snis.push(v.name);
  }

  // --- routes ---------------------------------------------------------------------------------
  const routes = new EntityIndex<unknown>('routes', sink);
  const builtRoutes: { route: Omit<Route, 'created_at'>; offset: number }[] = [];
  for (const node of collected.routes) {
    const v = node.value;
    const entity = label('route', v.name);
    const report = reporter(node, entity);
    let service: EntityNode<unknown> | undefined = node.parent;
    if (!service && node.usable && v.service !== undefined) {
      service = services.resolve(v.service, ['name']);
      if (!service) report(['service'], `invalid reference 'service: ${refText(v.service)}' (no such entry in 'services')`);
    }
    node.id = entityId('routes', v.id, v.name ?? `content:${service?.id ?? ''}:${content.key(childKeys(node.raw, ['plugins', 'service']))}`);
    routes.addId(node, entity);
    if (v.name !== undefined) routes.addKey(node, 'name', v.name, entity);
    if (!node.usable) continue;
    checkName(node, v.name, 'name', entity);
    const facts = checkRoute(v, node.raw, report);
    builtRoutes.push({
      offset: node.offset,
      route: {
        id: node.id,
        ...(v.name !== undefined ? { name: v.name } : {}),
        ...(service ? { service: service.id } : {}),
        protocols: (v.protocols ?? ['http', 'https']) as RouteProtocol[],
        ...(v.methods ? { methods: v.methods } : {}),
        ...(v.hosts ? { hosts: v.hosts } : {}),
        ...(v.paths ? { paths: v.paths.map(pcreNamedGroups) } : {}),
        ...(facts.headers ? { headers: facts.headers } : {}),
        ...(v.snis ? { snis: v.snis } : {}),
        strip_path: facts.strip_path,
        preserve_host: v.preserve_host ?? false,
        regex_priority: v.regex_priority ?? 0,
        path_handling: v.path_handling ?? 'v0',
        https_redirect_status_code: (v.https_redirect_status_code ?? 426) as HttpsRedirectStatus,
        request_buffering: v.request_buffering ?? true,
        response_buffering: v.response_buffering ?? true,
        tags: v.tags ?? [],
      },
    });
  }

  // --- plugins --------------------------------------------------------------------------------
  const builtPlugins = resolvePlugins(collected.plugins, { services, routes, consumers }, registry, reporter, sink);

  // --- credentials ----------------------------------------------------------------------------
  const builtCredentials = new Map<string, Credential[]>();
  for (const kind of CREDENTIAL_KINDS) {
    builtCredentials.set(kind, resolveCredentials(kind, collected.credentials[kind], consumers, options, reporter, sink));
  }

  // --- channels -------------------------------------------------------------------------------
  const channels = new EntityIndex<unknown>('channels', sink);
  const builtChannels: Record<string, unknown>[] = [];
  for (const node of collected.channels) {
    const v = node.value;
    node.id = entityId('channels', undefined, typeof v.name === 'string' ? v.name : undefined);
    if (typeof v.name === 'string') channels.addKey(node, 'name', v.name, label('channel', v.name));
    if (!node.usable) continue;
    const { _comment: _ignored, ...rest } = v;
    builtChannels.push(rest);
  }

  if (sink.errors.length > 0) return undefined;

  const upstreamMap = new Map<string, Upstream>();
  for (const { upstream, targets } of builtUpstreams.values()) upstreamMap.set(upstream.name, { ...upstream, targets });
  const certMap = new Map<string, Certificate>();
  for (const { cert, snis: names } of builtCerts.values()) certMap.set(cert.id, { ...cert, snis: names });

  return {
    services: builtServices,
    routes: builtRoutes.sort((a, b) => a.offset - b.offset).map(({ route }, i) => ({ ...route, created_at: i })),
    consumers: builtConsumers,
    plugins: builtPlugins,
    upstreams: upstreamMap,
    certificates: certMap,
    snis: builtSnis,
    credentials: builtCredentials,
    channels: builtChannels,
    hash: options.hash,
  };
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

interface Indexes {
  readonly services: EntityIndex<unknown>;
  readonly routes: EntityIndex<unknown>;
  readonly consumers: EntityIndex<unknown>;
}

const SCOPE_REF_FIELDS = { route: ['name'], service: ['name'], consumer: ['username'] } as const;

function resolvePlugins(
  nodes: readonly EntityNode<PluginIn>[],
  indexes: Indexes,
  registry: PluginRegistry,
  reporter: (node: EntityNode<unknown>, entity: string | undefined) => Report,
  sink: ErrorSink,
): PluginInstance[] {
  const ids = new EntityIndex<unknown>('plugins', sink);
  const built: { plugin: PluginInstance; offset: number }[] = [];
  for (const node of nodes) {
    const v = node.value;
    const entity = label('plugin', v.name);
    const report = reporter(node, entity);
    const scope: { route?: string; service?: string; consumer?: string } = {};
    let scopeOk = true;
    for (const field of ['route', 'service', 'consumer'] as const) {
      if (node.parentKind === field && node.parent) {
        scope[field] = node.parent.id;
        continue;
      }
      const ref = v[field];
      if (ref === undefined || !node.usable) continue;
      const target = indexes[`${field}s`].resolve(ref, SCOPE_REF_FIELDS[field]);
      if (target) scope[field] = target.id;
      else {
        scopeOk = false;
        report([field], `invalid reference '${field}: ${refText(ref)}' (no such entry in '${field}s')`);
      }
    }
    const cacheKey = `${String(v.name)}:${scope.route ?? ''}:${scope.service ?? ''}:${scope.consumer ?? ''}`;
    node.id = entityId('plugins', v.id, cacheKey);
    ids.addId(node, entity);
    if (!node.usable) continue;
    if (v.instance_name !== undefined) {
      if (!NAME_RE.test(v.instance_name)) report(['instance_name'], `invalid value '${v.instance_name}': ${NAME_MESSAGE}`);
      ids.addKey(node, 'instance_name', v.instance_name, entity);
    }
    if (scopeOk) {
      // Kong's cache_key (name, route, service, consumer): one instance per plugin per scope.
      ids.addKey(node, 'scope', cacheKey, entity, [...node.path, 'name'], (first) => {
        const on = (['route', 'service', 'consumer'] as const).filter((f) => scope[f] !== undefined);
        const target = on.length === 0 ? 'globally' : `on the same ${on.join(' + ')}`;
        return `uniqueness violation: duplicate plugin '${v.name}' ${target} (first declared at ${first}); configure each plugin once per scope`;
      });
    }
    const def = registry.get(v.name);
    if (!def) {
      report(['name'], `plugin '${v.name}' not enabled; add it to the 'plugins' configuration property`);
      continue;
    }
    for (const field of ['route', 'service', 'consumer'] as const) {
      if (scope[field] !== undefined && def.scopes?.[field] === false) {
        const at = node.parentKind === field ? [] : [field];
        report(at, `plugin '${v.name}' cannot be applied to a ${field}`);
      }
    }
    for (const side of ['before', 'after'] as const) {
      v.ordering?.[side]?.access?.forEach((other, i) => {
        if (!registry.has(other)) report(['ordering', side, 'access', i], `plugin '${other}' not enabled; add it to the 'plugins' configuration property`);
        else if (other === v.name) report(['ordering', side, 'access', i], `plugin '${other}' cannot be ordered relative to itself`);
      });
    }
    const checked = registry.validateConfig(v.name, v.config ?? {});
    if (!checked.ok) {
      for (const issue of checked.issues) {
        sink.add([...node.path, 'config', ...issue.path], issue.message, { entity: entity ?? '', atKey: issue.atKey === true });
      }
      continue;
    }
    built.push({
      offset: node.offset,
      plugin: {
        id: node.id,
        name: v.name,
        ...(v.instance_name !== undefined ? { instance_name: v.instance_name } : {}),
        ...scope,
        config: checked.config,
        protocols: (v.protocols ?? [...PLUGIN_DEFAULT_PROTOCOLS]) as RouteProtocol[],
        enabled: v.enabled ?? true,
        ...(v.ordering ? { ordering: v.ordering } : {}),
        tags: v.tags ?? [],
      },
    });
  }
  return built.sort((a, b) => a.offset - b.offset).map((b) => b.plugin);
}

/** Which field is a credential's unique key, and whether Kong generates it when omitted. */
const CREDENTIAL_KEYS: Record<CredentialKind, { field: string; generated: readonly string[]; perConsumer: boolean }> = {
  keyauth_credentials: { field: 'key', generated: ['key'], perConsumer: false },
  jwt_secrets: { field: 'key', generated: ['key', 'secret'], perConsumer: false },
  basicauth_credentials: { field: 'username', generated: [], perConsumer: false },
  hmacauth_credentials: { field: 'username', generated: ['secret'], perConsumer: false },
  acls: { field: 'group', generated: [], perConsumer: true },
};

function resolveCredentials(
  kind: CredentialKind,
  nodes: readonly EntityNode<CredentialIn>[],
  consumers: EntityIndex<unknown>,
  options: ResolveOptions,
  reporter: (node: EntityNode<unknown>, entity: string | undefined) => Report,
  sink: ErrorSink,
): Credential[] {
  const spec = CREDENTIAL_KEYS[kind];
  const index = new EntityIndex<unknown>(kind, sink);
  const built: Credential[] = [];
  for (const node of nodes) {
    const v = { ...node.value };
    const report = reporter(node, undefined);
    let consumer = node.parent;
    if (!consumer && node.usable && v.consumer !== undefined) {
      consumer = consumers.resolve(v.consumer, ['username']);
      if (!consumer) report(['consumer'], `invalid reference 'consumer: ${refText(v.consumer)}' (no such entry in 'consumers')`);
    }
    // Secrets Kong generates when omitted are random: deriving them would make them guessable.
    for (const field of spec.generated) if (v[field] === undefined) v[field] = randomBytes(16).toString('hex');
    const keyValue = typeof v[spec.field] === 'string' ? (v[spec.field] as string) : undefined;
    const key = keyValue === undefined ? undefined : spec.perConsumer ? `${consumer?.id ?? ''}:${keyValue}` : keyValue;
    const explicitKey = node.raw[spec.field] !== undefined;
    node.id = entityId(kind, v.id, explicitKey ? key : undefined);
    index.addId(node, undefined);
    if (key !== undefined && (consumer || !spec.perConsumer)) index.addKey(node, spec.field, key, undefined, [...node.path, spec.field]);
    if (!node.usable || !consumer) continue;
    if (kind === 'jwt_secrets') {
      const algorithm = String(v.algorithm ?? 'HS256');
      if (!algorithm.startsWith('HS')) {
        if (typeof v.rsa_public_key !== 'string') report([], `'rsa_public_key' is required when 'algorithm' is '${algorithm}'`);
        else {
          const problem = publicKeyProblem(v.rsa_public_key);
          if (problem) report(['rsa_public_key'], problem);
        }
      }
    }
    if (kind === 'basicauth_credentials' && options.transform && typeof v.password === 'string') {
      v.password = createHash('sha1').update(`${v.password}${consumer.id}`).digest('hex');
    }
    const { _comment: _c, consumer: _ref, ...fields } = v;
    built.push({ ...fields, tags: v.tags ?? [], id: node.id, consumer: consumer.id });
  }
  return built;
}
