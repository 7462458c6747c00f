/**
 * The node settings table (Kong's kong.conf layer): one row per setting with its default,
 * its `SLUICE_<NAME>` variable, its CLI flag and the sentence the README shows. The CLI
 * options, the README reference and the resolver all read this one list, so they cannot
 * drift apart.
 *
 * @example
 *   SPEC_BY_NAME.get('proxy_listen')?.env; // 'SLUICE_PROXY_LISTEN'
 */

export const SETTING_NAMES = [
  'proxy_listen',
  'admin_listen',
  'internal_listen',
  'status_listen',
  'declarative_config',
  'declarative_config_watch',
  'trusted_ips',
  'real_ip_header',
  'real_ip_recursive',
  'log_level',
  'log_format',
  'access_log',
  'metrics',
  'metrics_per_consumer',
  'client_max_body_size',
  'admin_max_body_size',
  'max_header_size',
  'http2_max_concurrent_streams',
  'http2_max_header_size',
  'http2_max_connections',
  'drain_timeout',
  'upstream_tls_verify',
  'plugins',
  'plugins_path',
  'engine',
  'redis_url',
  'redis_namespace',
  'redis_command_timeout',
  'redis_replica_wait',
  'internal_allow',
  'internal_token',
  'workers',
  'ssl_cert',
  'ssl_cert_key',
  'internal_client_ca',
  'internal_publisher_upstream',
  'internal_publisher_upstream_timeout',
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];

export interface SettingSpec {
  readonly name: SettingName;
  /** `SLUICE_PROXY_LISTEN` */
  readonly env: string;
  /** `--proxy-listen` */
  readonly flag: string;
  /** As it would be written in the file; undefined = unset. */
  readonly default: string | undefined;
  readonly description: string;
  /** An on/off setting whose flag may be given bare (`--watch` = `--watch on`). */
  readonly switch?: boolean;
}

const spec = (name: SettingName, def: string | undefined, description: string, flag = `--${name.replace(/_/g, '-')}`, isSwitch = false): SettingSpec => ({
  name,
  env: `SLUICE_${name.toUpperCase()}`,
  flag,
  default: def,
  description,
  ...(isSwitch ? { switch: true } : {}),
});

export const SETTINGS: readonly SettingSpec[] = [
  spec('proxy_listen', '0.0.0.0:8000', 'Proxy listener: comma-separated `host:port` / `[v6]:port` with optional `ssl`, `http2` flags, or `off`.'),
  spec('admin_listen', '127.0.0.1:8001', 'Admin API listener (same syntax); keep it on loopback.'),
  spec('internal_listen', '127.0.0.1:8010', 'Internal listener for the publisher API (same syntax).'),
  spec('status_listen', 'off', 'Status/readiness listener (same syntax).'),
  spec('declarative_config', undefined, 'Path of the kong.yml declarative configuration to load.', '-c, --config'),
  spec('declarative_config_watch', 'off', 'Reload the declarative config when its file changes (on/off); a broken file keeps the running config.', '--watch', true),
  spec('trusted_ips', undefined, 'Comma-separated IPs/CIDRs (IPv4 and IPv6) whose X-Forwarded-* and real-IP headers are trusted.'),
  spec('real_ip_header', 'X-Real-IP', 'Header carrying the client address when the peer is trusted.'),
  spec('real_ip_recursive', 'off', 'Use the last untrusted address of the real-IP header instead of the last one (on/off).'),
  spec('log_level', 'info', 'debug, info, notice, warn, error or crit (Kong names, mapped onto pino levels).'),
  spec('log_format', 'auto', '`json` (JSON lines), `pretty` (pino-pretty, for people) or `auto` (pretty when stdout is a terminal).'),
  spec('access_log', 'on', 'One JSON line per request and per subscriber stream open/close, at `info` (on/off).'),
  spec('metrics', 'on', 'Prometheus metrics on the admin listener\'s `GET /metrics` (on/off); off also skips the per-request counting.'),
  spec('metrics_per_consumer', 'off', 'Fill the `consumer` label of `sluice_subscribers` (Kong\'s `per_consumer`); on adds a series per consumer.'),
  spec('client_max_body_size', '0', 'Largest request body in bytes (k/m/g suffixes as nginx); 0 = unlimited.'),
  spec('admin_max_body_size', '10m', 'Largest Admin API request body (`POST /config`), k/m/g suffixes; 0 = unlimited.'),
  spec('max_header_size', '16k', 'Largest total request header size (k/m/g suffixes).'),
  spec('http2_max_concurrent_streams', '128', 'Listeners with the `http2` flag: streams one client connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS, nginx\'s default 128); EventSource streams each hold one.'),
  spec('http2_max_header_size', '32k', 'Listeners with the `http2` flag: largest decoded request header list (SETTINGS_MAX_HEADER_LIST_SIZE, k/m/g suffixes); a bigger one resets the stream.'),
  spec('http2_max_connections', '0', 'Listeners with the `http2` flag: connections (h2 sessions and HTTP/1.1 fallbacks) one listener holds at once; more are closed as they arrive. 0 = no limit.'),
  spec('drain_timeout', '30', 'Seconds to wait for open connections on shutdown before closing them.'),
  spec('upstream_tls_verify', 'on', 'Verify upstream certificates of https/wss services that leave `tls_verify` unset (on/off; Kong\'s default is off).'),
  spec('plugins', 'bundled', 'Comma-separated plugin names to enable; `bundled` = all bundled plugins, `off` = none.'),
  spec('plugins_path', undefined, 'Directory of extra plugins to load.'),
  spec('engine', 'memory', 'Pub/sub engine: `memory` (one node) or `redis` (needs redis_url).'),
  spec('redis_url', undefined, 'Redis connection URL for the redis engine: redis:// or rediss:// (TLS); a Redis Cluster is redis+cluster://host:port,host:port (rediss+cluster:// for TLS).'),
  spec('redis_namespace', 'sluice:', 'Prefix of every Redis key the redis engine writes; nodes that share channels use the same one.'),
  spec('redis_command_timeout', '3000', 'Milliseconds (1-600000) the redis engine waits for any one Redis call; past it the call fails and publishers get 503.'),
  spec('redis_replica_wait', '1000', 'Redis Cluster: milliseconds (0-600000) a publish waits for a replica of its master to confirm the write (WAIT 1), else 503; 0 = do not wait.'),
  spec('internal_allow', '127.0.0.1/32,::1/128', 'CIDRs allowed to reach the internal listener.'),
  spec('internal_token', undefined, 'Bearer token required on the internal listener, when set.'),
  spec('workers', '1', 'Gateway processes sharing the listeners: a number or `auto` (one per core); the primary supervises and relays channels.'),
  spec('ssl_cert', undefined, 'PEM certificate file(s) the `ssl` listeners serve when no SNI certificate matches (comma-separated for an RSA + ECDSA pair); unset: a generated self-signed one.'),
  spec('ssl_cert_key', undefined, 'PEM private key file(s) of `ssl_cert`, in the same order.'),
  spec('internal_client_ca', undefined, 'PEM CA file: the `ssl` internal listener then refuses, at the handshake, publishers without a client certificate signed by it (mTLS).'),
  spec('internal_publisher_upstream', undefined, 'nchan_publisher_upstream_request for the internal publisher: an http(s) URL every message (HTTP or WebSocket) is POSTed to first, or `off`.'),
  spec('internal_publisher_upstream_timeout', '5000', 'Milliseconds the internal publisher upstream request may take (1-600000); past it the publisher gets 504.'),
];

export const SPEC_BY_NAME: ReadonlyMap<SettingName, SettingSpec> = new Map(SETTINGS.map((s) => [s.name, s]));
