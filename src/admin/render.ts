import type { CaCertificate, Certificate, Consumer, Credential, PluginInstance, Route, Service, Sni, Target, Upstream } from '../config/types.ts';

/**
 * Snapshot entities in the JSON shape Kong's Admin API gives them: every schema field present
 * (null when unset), foreign keys as `{"id": ...}`, `created_at`/`updated_at` in seconds
 * (targets in milliseconds as a fraction, as Kong), Sluice's extra fields only when set.
 *
 * ```ts
 * renderService(service, { seconds: 1700000000 }); // { id, created_at: 1700000000, ..., enabled: true }
 * ```
 */

/** An entity as the Admin API shows it. */
export type KongEntity = Readonly<Record<string, unknown>> & { readonly id: string };

/** When the entities were loaded: DB-less Kong stamps every entity with its load time. */
export interface LoadTime {
  readonly seconds: number;
  readonly millis: number;
}

const ref = (id: string | undefined): { id: string } | null => (id === undefined ? null : { id });
const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
/** Kong shows an entity without tags as `"tags": null`. */
const tagsOf = (tags: readonly string[] | undefined): readonly string[] | null => (tags && tags.length > 0 ? tags : null);
const stamps = (at: LoadTime) => ({ created_at: at.seconds, updated_at: at.seconds });

export function renderService(s: Service, at: LoadTime): KongEntity {
  return {
    id: s.id,
    ...stamps(at),
    name: orNull(s.name),
    protocol: s.protocol,
    host: s.host,
    port: s.port,
    path: orNull(s.path),
    retries: s.retries,
    connect_timeout: s.connect_timeout,
    write_timeout: s.write_timeout,
    read_timeout: s.read_timeout,
    tags: tagsOf(s.tags),
    client_certificate: ref(s.client_certificate),
    tls_verify: orNull(s.tls_verify),
    tls_verify_depth: orNull(s.tls_verify_depth),
    ca_certificates: s.ca_certificates !== undefined && s.ca_certificates.length > 0 ? s.ca_certificates : null,
    enabled: s.enabled,
  };
}

export function renderRoute(r: Route, at: LoadTime): KongEntity {
  return {
    id: r.id,
    ...stamps(at),
    name: orNull(r.name),
    protocols: r.protocols,
    methods: orNull(r.methods),
    hosts: orNull(r.hosts),
    paths: orNull(r.paths),
    headers: orNull(r.headers),
    https_redirect_status_code: r.https_redirect_status_code,
    regex_priority: r.regex_priority,
    strip_path: r.strip_path,
    path_handling: r.path_handling,
    preserve_host: r.preserve_host,
    request_buffering: r.request_buffering,
    response_buffering: r.response_buffering,
    snis: orNull(r.snis),
    sources: null,
    destinations: null,
    tags: tagsOf(r.tags),
    service: ref(r.service),
    ...(r.internal ? { internal: true } : {}),
  };
}

export function renderConsumer(c: Consumer, at: LoadTime): KongEntity {
  return { id: c.id, ...stamps(at), username: orNull(c.username), custom_id: orNull(c.custom_id), tags: tagsOf(c.tags) };
}

export function renderPlugin(p: PluginInstance, at: LoadTime): KongEntity {
  return {
    id: p.id,
    name: p.name,
    instance_name: orNull(p.instance_name),
    ...stamps(at),
    route: ref(p.route),
    service: ref(p.service),
    consumer: ref(p.consumer),
    config: p.config,
    protocols: p.protocols,
    enabled: p.enabled,
    tags: tagsOf(p.tags),
    ordering: orNull(p.ordering),
    ...(p.exclude ? { exclude: p.exclude } : {}),
  };
}

export function renderUpstream(u: Upstream, at: LoadTime): KongEntity {
  return {
    id: u.id,
    ...stamps(at),
    name: u.name,
    algorithm: u.algorithm,
    hash_on: u.hash_on,
    hash_fallback: u.hash_fallback,
    hash_on_header: orNull(u.hash_on_header),
    hash_fallback_header: orNull(u.hash_fallback_header),
    hash_on_cookie: orNull(u.hash_on_cookie),
    hash_on_cookie_path: u.hash_on_cookie_path,
    hash_on_query_arg: orNull(u.hash_on_query_arg),
    hash_fallback_query_arg: orNull(u.hash_fallback_query_arg),
    hash_on_uri_capture: orNull(u.hash_on_uri_capture),
    hash_fallback_uri_capture: orNull(u.hash_fallback_uri_capture),
    slots: u.slots,
    healthchecks: u.healthchecks,
    tags: tagsOf(u.tags),
    host_header: orNull(u.host_header),
    client_certificate: null,
    use_srv_name: false,
  };
}

export function renderTarget(t: Target, at: LoadTime): KongEntity {
  const millis = at.millis / 1000;
  return { id: t.id, created_at: millis, updated_at: millis, upstream: { id: t.upstream }, target: t.target, weight: t.weight, tags: tagsOf(t.tags) };
}

export function renderCertificate(c: Certificate, at: LoadTime): KongEntity {
  return {
    id: c.id,
    ...stamps(at),
    cert: c.cert,
    key: c.key,
    cert_alt: orNull(c.cert_alt),
    key_alt: orNull(c.key_alt),
    tags: tagsOf(c.tags),
    snis: c.snis,
  };
}

export function renderCaCertificate(c: CaCertificate, at: LoadTime): KongEntity {
  return { id: c.id, ...stamps(at), cert: c.cert, cert_digest: c.cert_digest, tags: tagsOf(c.tags) };
}

export function renderSni(s: Sni, at: LoadTime): KongEntity {
  return { id: s.id, name: s.name, ...stamps(at), certificate: { id: s.certificate }, tags: tagsOf(s.tags) };
}

/** Each credential DAO's fields besides id, created_at, consumer and tags, in Kong's order. */
export const CREDENTIAL_FIELDS = {
  keyauth_credentials: ['key', 'ttl'],
  jwt_secrets: ['key', 'secret', 'rsa_public_key', 'algorithm'],
  basicauth_credentials: ['username', 'password'],
  hmacauth_credentials: ['username', 'secret'],
  acls: ['group'],
} as const;

/**
 * A credential row as DB-less Kong shows it: secrets as stored (key-auth keys and JWT secrets
 * in clear, basic-auth passwords as their SHA-1 hash when `_transform` is on).
 */
export function renderCredential(kind: keyof typeof CREDENTIAL_FIELDS, c: Credential, at: LoadTime): KongEntity {
  const out: Record<string, unknown> & { id: string } = { id: c.id, created_at: at.seconds, consumer: { id: c.consumer } };
  for (const field of CREDENTIAL_FIELDS[kind]) out[field] = c[field] ?? (field === 'algorithm' ? 'HS256' : null);
  out.tags = tagsOf(c.tags as readonly string[] | undefined);
  return out;
}
