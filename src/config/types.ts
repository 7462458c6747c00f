/**
 * The resolved configuration the runtime works from: every entity flat, with ids, Kong's
 * defaults applied and foreign keys resolved to ids. Produced by the declarative loader
 * (`src/config/load.ts`) from a kong.yml; never mutated after it is built.
 */

export type ServiceProtocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'tcp' | 'tls' | 'tls_passthrough' | 'udp' | 'ws' | 'wss';
export type RouteProtocol = ServiceProtocol;
export type HttpsRedirectStatus = 426 | 301 | 302 | 307 | 308;

export interface Service {
  readonly id: string;
  readonly name?: string;
  readonly protocol: ServiceProtocol;
  /** A hostname, an IP, or the name of an Upstream. */
  readonly host: string;
  readonly port: number;
  readonly path?: string;
  readonly retries: number;
  readonly connect_timeout: number;
  readonly write_timeout: number;
  readonly read_timeout: number;
  readonly enabled: boolean;
  readonly tls_verify?: boolean;
  /** OpenSSL verify depth (0..64): intermediates allowed between the upstream's certificate and a trusted CA. */
  readonly tls_verify_depth?: number;
  /** Id of the `certificates` entity presented to the upstream (mutual TLS). */
  readonly client_certificate?: string;
  /** Ids of the `ca_certificates` that verify the upstream (the system trust store when unset). */
  readonly ca_certificates?: readonly string[];
  readonly tags: readonly string[];
}

export interface Route {
  readonly id: string;
  readonly name?: string;
  /** Service id, when the route has one. */
  readonly service?: string;
  readonly protocols: readonly RouteProtocol[];
  readonly methods?: readonly string[];
  readonly hosts?: readonly string[];
  /** Plain prefixes (`/foo`) or regexes (`~/foo/(?<id>\d+)$`), as written in the file. */
  readonly paths?: readonly string[];
  /** Header name (lower-case) → accepted values; a value starting with `~*` is a regex. */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
  readonly snis?: readonly string[];
  readonly strip_path: boolean;
  readonly preserve_host: boolean;
  readonly regex_priority: number;
  readonly path_handling: 'v0' | 'v1';
  readonly https_redirect_status_code: HttpsRedirectStatus;
  readonly request_buffering: boolean;
  readonly response_buffering: boolean;
  /**
   * Sluice: the route is matched only for an upstream's `X-Accel-Redirect` (nchan's internal
   * redirect), never for a client request. Present (true) only when set.
   */
  readonly internal?: boolean;
  /** Position in the file; the last-resort tie-break between equal-priority routes. */
  readonly created_at: number;
  readonly tags: readonly string[];
}

export interface Consumer {
  readonly id: string;
  readonly username?: string;
  readonly custom_id?: string;
  readonly tags: readonly string[];
}

export interface PluginOrdering {
  readonly before?: { readonly access?: readonly string[] };
  readonly after?: { readonly access?: readonly string[] };
}

export interface PluginInstance {
  readonly id: string;
  readonly name: string;
  readonly instance_name?: string;
  readonly route?: string;
  readonly service?: string;
  readonly consumer?: string;
  /** Validated against the plugin's schema, defaults applied. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly protocols: readonly RouteProtocol[];
  readonly enabled: boolean;
  readonly ordering?: PluginOrdering;
  /** Route and service ids this (global or service-wide) instance does not apply to. */
  readonly exclude?: { readonly routes: readonly string[]; readonly services: readonly string[] };
  readonly tags: readonly string[];
}

export type BalancerAlgorithm = 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency';
export type HashOn = 'none' | 'consumer' | 'ip' | 'header' | 'cookie' | 'path' | 'query_arg' | 'uri_capture';

export interface PassiveHealthcheck {
  readonly type: 'http' | 'https' | 'tcp';
  readonly healthy: { readonly http_statuses: readonly number[]; readonly successes: number };
  readonly unhealthy: {
    readonly http_statuses: readonly number[];
    readonly tcp_failures: number;
    readonly timeouts: number;
    readonly http_failures: number;
  };
}

export interface ActiveHealthcheck {
  readonly type: 'http' | 'https' | 'tcp';
  readonly timeout: number;
  readonly concurrency: number;
  readonly http_path: string;
  /** `https` probes: SNI to send (default: the target's host name). */
  readonly https_sni?: string;
  /** `https` probes: verify the target's certificate (Kong's default true). */
  readonly https_verify_certificate?: boolean;
  readonly healthy: { readonly interval: number; readonly http_statuses: readonly number[]; readonly successes: number };
  readonly unhealthy: {
    readonly interval: number;
    readonly http_statuses: readonly number[];
    readonly tcp_failures: number;
    readonly timeouts: number;
    readonly http_failures: number;
  };
}

export interface Target {
  readonly id: string;
  /** `host:port` (port defaults to 8000 as in Kong). */
  readonly target: string;
  readonly weight: number;
  readonly upstream: string;
  readonly tags: readonly string[];
}

export interface Upstream {
  readonly id: string;
  readonly name: string;
  readonly algorithm: BalancerAlgorithm;
  readonly hash_on: HashOn;
  readonly hash_fallback: HashOn;
  readonly hash_on_header?: string;
  readonly hash_fallback_header?: string;
  readonly hash_on_cookie?: string;
  readonly hash_on_cookie_path: string;
  readonly hash_on_query_arg?: string;
  readonly hash_fallback_query_arg?: string;
  readonly hash_on_uri_capture?: string;
  readonly hash_fallback_uri_capture?: string;
  readonly slots: number;
  readonly host_header?: string;
  readonly healthchecks: {
    readonly active: ActiveHealthcheck;
    readonly passive: PassiveHealthcheck;
    readonly threshold: number;
  };
  readonly targets: readonly Target[];
  readonly tags: readonly string[];
}

export interface Certificate {
  readonly id: string;
  readonly cert: string;
  readonly key: string;
  readonly cert_alt?: string;
  readonly key_alt?: string;
  readonly snis: readonly string[];
  readonly tags: readonly string[];
}

/** A CA certificate (Kong's `ca_certificates`), trusted by the services that list its id. */
export interface CaCertificate {
  readonly id: string;
  readonly cert: string;
  /** Hex SHA-256 of the DER certificate. */
  readonly cert_digest: string;
  readonly tags: readonly string[];
}

export interface Sni {
  readonly id: string;
  readonly name: string;
  readonly certificate: string;
  readonly tags: readonly string[];
}

/** A credential row of a plugin DAO (keyauth_credentials, jwt_secrets, acls, ...). */
export interface Credential {
  readonly id: string;
  readonly consumer: string;
  readonly [field: string]: unknown;
}

/**
 * A `channels` entry (schema: `src/config/schema/channel.ts`). `Snapshot.channels` still holds
 * the raw rows (the resolver in `src/config/resolve/channels.ts` returns records);
 * `src/pubsub/policies.ts` narrows them to this type.
 */
export interface ChannelConfig {
  readonly name: string;
  /** Channel id pattern; `*` matches any run of characters (including none). */
  readonly match: string;
  readonly message_buffer_length?: number;
  /** Seconds; 0 = never expire. */
  readonly message_timeout?: number;
  readonly max_subscribers?: number;
  /** Bytes. */
  readonly max_message_size?: number;
  readonly subscribe_existing_only?: boolean;
  /** Seconds an empty channel lingers. */
  readonly channel_timeout?: number;
  /** nchan_channel_events_channel_id: events are published to `meta/<events_channel>`. */
  readonly events_channel?: string;
  readonly tags?: readonly string[];
}

export interface Snapshot {
  readonly services: ReadonlyMap<string, Service>;
  /** In file order; the router sorts by priority itself. */
  readonly routes: readonly Route[];
  readonly consumers: ReadonlyMap<string, Consumer>;
  readonly plugins: readonly PluginInstance[];
  /** Keyed by upstream name, which is what `Service.host` refers to. */
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly certificates: ReadonlyMap<string, Certificate>;
  readonly snis: readonly Sni[];
  readonly ca_certificates: ReadonlyMap<string, CaCertificate>;
  /** Credential entity name (e.g. `keyauth_credentials`) → rows. */
  readonly credentials: ReadonlyMap<string, readonly Credential[]>;
  /** Top-level `channels` policies, kept raw until the pub/sub issue gives them a type. */
  readonly channels: readonly Readonly<Record<string, unknown>>[];
  /** md5 of the canonical config, as Kong's `configuration_hash`. */
  readonly hash: string;
}
