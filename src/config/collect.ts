import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { ErrorSink } from './errors.ts';
import { CaCertificateEntity } from './schema/ca-certificate.ts';
import { CertificateEntity, CertificateSniEntity, SniEntity } from './schema/certificate.ts';
import { ChannelEntity } from './schema/channel.ts';
import type { EntitySchemas } from './schema/common.ts';
import { ConsumerEntity } from './schema/consumer.ts';
import { CREDENTIAL_KINDS, CredentialEntities, NestedCredentialEntities, type CredentialKind } from './schema/credentials.ts';
import { ConsumerPluginEntity, PluginEntity, RoutePluginEntity, ServicePluginEntity } from './schema/plugin.ts';
import { RouteEntity, ServiceRouteEntity } from './schema/route.ts';
import { ServiceEntity } from './schema/service.ts';
import { TargetEntity, UpstreamEntity, UpstreamTargetEntity } from './schema/upstream.ts';
import { schemaIssues } from './schema-errors.ts';
import type { ConfigPath, SourceMap } from './source-map.ts';

/**
 * First pass of the loader: walks the file's entity tree (top-level arrays and the nested
 * forms Kong accepts), validates each entity on its own against its shallow schema and
 * flattens everything into one list per type, remembering each entity's path and parent.
 * An invalid entity is reported and kept so references to it do not produce a second,
 * misleading "not found" error.
 */

export type ServiceIn = Static<typeof ServiceEntity.shallow>;
export type RouteIn = Static<typeof RouteEntity.shallow>;
export type ConsumerIn = Static<typeof ConsumerEntity.shallow>;
type Ref = string | { id: string };
/** Nested plugins lack their parent's key; the top-level shape has all three. */
export type PluginIn = Static<typeof PluginEntity.shallow> & { route?: Ref; service?: Ref; consumer?: Ref };
export type UpstreamIn = Static<typeof UpstreamEntity.shallow>;
export type TargetIn = Static<typeof TargetEntity.shallow>;
export type CertificateIn = Static<typeof CertificateEntity.shallow>;
export type SniIn = Static<typeof SniEntity.shallow>;
export type CaCertificateIn = Static<typeof CaCertificateEntity.shallow>;
export type ChannelIn = Static<typeof ChannelEntity.shallow>;
export type CredentialIn = Record<string, unknown> & { id?: string; consumer?: Ref; tags?: string[] };

export interface EntityNode<V> {
  readonly path: ConfigPath;
  /** The entity with schema defaults applied. */
  readonly value: V;
  /** The entity as written (to tell an explicit value from a default). */
  readonly raw: Readonly<Record<string, unknown>>;
  /**
   * The value passed its schema once the fields with schema errors were dropped: cross-field
   * checks can still run on it (and report more problems in the same pass), though a
   * snapshot is never built while any error exists.
   */
  readonly usable: boolean;
  /** Character offset in the file: file order across nested and top-level entities. */
  readonly offset: number;
  /** The entity this one is nested under, if any. */
  readonly parent?: EntityNode<unknown>;
  readonly parentKind?: 'service' | 'route' | 'consumer' | 'upstream' | 'certificate';
  /** Assigned by the resolver. */
  id: string;
}

export interface Collected {
  readonly services: EntityNode<ServiceIn>[];
  readonly routes: EntityNode<RouteIn>[];
  readonly consumers: EntityNode<ConsumerIn>[];
  readonly plugins: EntityNode<PluginIn>[];
  readonly upstreams: EntityNode<UpstreamIn>[];
  readonly targets: EntityNode<TargetIn>[];
  readonly certificates: EntityNode<CertificateIn>[];
  readonly snis: EntityNode<SniIn>[];
  readonly caCertificates: EntityNode<CaCertificateIn>[];
  readonly credentials: Record<CredentialKind, EntityNode<CredentialIn>[]>;
  readonly channels: EntityNode<ChannelIn>[];
}

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();
function compiled(schema: TSchema): TypeCheck<TSchema> {
  let check = checks.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    checks.set(schema, check);
  }
  return check;
}

/** Compile every entity schema up front: the first load should not pay for it lazily per entity. */
for (const e of [
  ServiceEntity, RouteEntity, ServiceRouteEntity, ConsumerEntity, PluginEntity, ServicePluginEntity, RoutePluginEntity,
  ConsumerPluginEntity, UpstreamEntity, UpstreamTargetEntity, TargetEntity, CertificateEntity, CertificateSniEntity,
  SniEntity, CaCertificateEntity, ChannelEntity, ...Object.values(CredentialEntities), ...Object.values(NestedCredentialEntities),
] as EntitySchemas<never, never>[]) {
  compiled(e.shallow);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Collector {
  readonly out: Collected = {
    services: [], routes: [], consumers: [], plugins: [], upstreams: [], targets: [], certificates: [], snis: [], caCertificates: [],
    credentials: Object.fromEntries(CREDENTIAL_KINDS.map((k) => [k, []])) as unknown as Record<CredentialKind, EntityNode<CredentialIn>[]>,
    channels: [],
  };

  constructor(
    private readonly sink: ErrorSink,
    private readonly source: SourceMap,
  ) {}

  /** Validates one entity against `schema` and reports its schema errors. */
  node<V>(
    schema: TObject,
    raw: unknown,
    path: ConfigPath,
    label: (v: Record<string, unknown>) => string | undefined,
    parent?: { node: EntityNode<unknown>; kind: NonNullable<EntityNode<unknown>['parentKind']> },
  ): EntityNode<V> {
    const written = isRecord(raw) ? raw : {};
    const value = isRecord(raw) ? (Value.Default(schema, Value.Clone(raw)) as Record<string, unknown>) : {};
    const check = compiled(schema);
    const issues = schemaIssues(check, isRecord(raw) ? value : raw);
    const entity = label(written);
    for (const issue of issues) {
      this.sink.add([...path, ...issue.path], issue.message, { atKey: issue.atKey, ...(entity ? { entity } : {}) });
    }
    let usable = isRecord(raw) && issues.length === 0;
    if (isRecord(raw) && !usable) {
      for (const issue of issues) if (issue.path.length > 0) delete value[String(issue.path[0])];
      usable = check.Check(value);
    }
    return {
      path,
      value: value as V,
      raw: written,
      usable,
      offset: this.source.offset(path),
      ...(parent ? { parent: parent.node, parentKind: parent.kind } : {}),
      id: '',
    };
  }

  /** Iterates `container[key]` when it is an array (a non-array was already reported). */
  each(container: Readonly<Record<string, unknown>>, key: string, path: ConfigPath, fn: (item: unknown, path: ConfigPath) => void): void {
    const list = container[key];
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => fn(item, [...path, key, i]));
  }

  service(raw: unknown, path: ConfigPath): void {
    const svc = this.node<ServiceIn>(ServiceEntity.shallow, raw, path, (v) => named('service', v.name));
    this.out.services.push(svc);
    const parent = { node: svc as EntityNode<unknown>, kind: 'service' as const };
    this.each(svc.raw, 'routes', path, (r, p) => this.route(r, p, ServiceRouteEntity.shallow, parent));
    this.each(svc.raw, 'plugins', path, (r, p) => this.plugin(r, p, ServicePluginEntity.shallow, parent));
  }

  route(raw: unknown, path: ConfigPath, schema: TObject, parent?: { node: EntityNode<unknown>; kind: 'service' }): void {
    const route = this.node<RouteIn>(schema, raw, path, (v) => named('route', v.name), parent);
    this.out.routes.push(route);
    this.each(route.raw, 'plugins', path, (r, p) =>
      this.plugin(r, p, RoutePluginEntity.shallow, { node: route as EntityNode<unknown>, kind: 'route' }),
    );
  }

  plugin(raw: unknown, path: ConfigPath, schema: TObject, parent?: { node: EntityNode<unknown>; kind: 'service' | 'route' | 'consumer' }): void {
    this.out.plugins.push(this.node<PluginIn>(schema, raw, path, (v) => named('plugin', v.name), parent));
  }

  consumer(raw: unknown, path: ConfigPath): void {
    const consumer = this.node<ConsumerIn>(ConsumerEntity.shallow, raw, path, (v) => named('consumer', v.username ?? v.custom_id));
    this.out.consumers.push(consumer);
    const parent = { node: consumer as EntityNode<unknown>, kind: 'consumer' as const };
    this.each(consumer.raw, 'plugins', path, (r, p) => this.plugin(r, p, ConsumerPluginEntity.shallow, parent));
    for (const kind of CREDENTIAL_KINDS) {
      this.each(consumer.raw, kind, path, (r, p) =>
        this.out.credentials[kind].push(this.node<CredentialIn>(NestedCredentialEntities[kind].shallow, r, p, () => undefined, parent)),
      );
    }
  }

  upstream(raw: unknown, path: ConfigPath): void {
    const upstream = this.node<UpstreamIn>(UpstreamEntity.shallow, raw, path, (v) => named('upstream', v.name));
    this.out.upstreams.push(upstream);
    this.each(upstream.raw, 'targets', path, (r, p) =>
      this.out.targets.push(
        this.node<TargetIn>(UpstreamTargetEntity.shallow, r, p, (v) => named('target', v.target), {
          node: upstream as EntityNode<unknown>,
          kind: 'upstream',
        }),
      ),
    );
  }

  certificate(raw: unknown, path: ConfigPath): void {
    const cert = this.node<CertificateIn>(CertificateEntity.shallow, raw, path, () => undefined);
    this.out.certificates.push(cert);
    this.each(cert.raw, 'snis', path, (r, p) => {
      // Nested SNIs may be bare names (Kong's `snis` shorthand on a certificate).
      const item = typeof r === 'string' ? { name: r } : r;
      const sni = this.node<SniIn>(CertificateSniEntity.shallow, item, p, (v) => named('sni', v.name), {
        node: cert as EntityNode<unknown>,
        kind: 'certificate',
      });
      this.out.snis.push(sni);
    });
  }
}

function named(type: string, name: unknown): string | undefined {
  return typeof name === 'string' ? `${type} "${name}"` : undefined;
}

/** Walks a (root-validated) config value into flat per-type lists. */
export function collectEntities(root: Readonly<Record<string, unknown>>, sink: ErrorSink, source: SourceMap): Collected {
  const c = new Collector(sink, source);
  c.each(root, 'services', [], (r, p) => c.service(r, p));
  c.each(root, 'routes', [], (r, p) => c.route(r, p, RouteEntity.shallow));
  c.each(root, 'consumers', [], (r, p) => c.consumer(r, p));
  c.each(root, 'plugins', [], (r, p) => c.plugin(r, p, PluginEntity.shallow));
  c.each(root, 'upstreams', [], (r, p) => c.upstream(r, p));
  c.each(root, 'targets', [], (r, p) =>
    c.out.targets.push(c.node<TargetIn>(TargetEntity.shallow, r, p, (v) => named('target', v.target))),
  );
  c.each(root, 'certificates', [], (r, p) => c.certificate(r, p));
  c.each(root, 'snis', [], (r, p) => c.out.snis.push(c.node<SniIn>(SniEntity.shallow, r, p, (v) => named('sni', v.name))));
  c.each(root, 'ca_certificates', [], (r, p) => c.out.caCertificates.push(c.node<CaCertificateIn>(CaCertificateEntity.shallow, r, p, () => undefined)));
  for (const kind of CREDENTIAL_KINDS) {
    c.each(root, kind, [], (r, p) => c.out.credentials[kind].push(c.node<CredentialIn>(CredentialEntities[kind].shallow, r, p, () => undefined)));
  }
  c.each(root, 'channels', [], (r, p) => c.out.channels.push(c.node<ChannelIn>(ChannelEntity.shallow, r, p, (v) => named('channel', v.name))));
  return c.out;
}
