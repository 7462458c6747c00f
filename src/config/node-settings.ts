/**
 * The resolved node settings, as the gateway, the CLI and the workers read them: every value
 * parsed and checked, sizes in bytes, durations in their stated unit.
 */
import type { ListenAddress } from './listen-address.ts';
import type { LogFormat, LogLevel } from './log-settings.ts';
import type { TlsNodeSettings } from './tls-settings.ts';

export interface NodeSettings extends TlsNodeSettings {
  readonly proxy_listen: readonly ListenAddress[];
  readonly admin_listen: readonly ListenAddress[];
  readonly internal_listen: readonly ListenAddress[];
  /** Empty when `off`. */
  readonly status_listen: readonly ListenAddress[];
  readonly declarative_config?: string;
  /** Watch the declarative file and reload on change. */
  readonly declarative_config_watch: boolean;
  /** IPs and CIDRs, as written. */
  readonly trusted_ips: readonly string[];
  /** Lower-case, as Node exposes header names. */
  readonly real_ip_header: string;
  readonly real_ip_recursive: boolean;
  /** Kong's level name; `pinoLevel` maps it. */
  readonly log_level: LogLevel;
  readonly log_format: LogFormat;
  readonly access_log: boolean;
  readonly metrics: boolean;
  readonly metrics_per_consumer: boolean;
  /** Bytes; 0 = unlimited. */
  readonly client_max_body_size: number;
  /** Bytes; 0 = unlimited. */
  readonly admin_max_body_size: number;
  readonly max_header_size: number;
  /** `http2` listeners: SETTINGS_MAX_CONCURRENT_STREAMS. */
  readonly http2_max_concurrent_streams: number;
  /** `http2` listeners: SETTINGS_MAX_HEADER_LIST_SIZE, bytes. */
  readonly http2_max_header_size: number;
  /** `http2` listeners: connections held at once; 0 = no limit. */
  readonly http2_max_connections: number;
  /** Seconds. */
  readonly drain_timeout: number;
  /** Verify upstream certificates when a service's `tls_verify` is unset. */
  readonly upstream_tls_verify: boolean;
  readonly plugins: readonly string[];
  readonly plugins_path?: string;
  readonly engine: 'memory' | 'redis';
  readonly redis_url?: string;
  readonly redis_namespace: string;
  /** Milliseconds. */
  readonly redis_command_timeout: number;
  /** Milliseconds; 0 = publishes on a cluster do not wait for a replica. */
  readonly redis_replica_wait: number;
  readonly internal_allow: readonly string[];
  readonly internal_token?: string;
  /** nchan_publisher_upstream_request for the internal publisher; unset = none. */
  readonly internal_publisher_upstream?: string;
  /** Milliseconds. */
  readonly internal_publisher_upstream_timeout: number;
  /** Worker processes (1 = the gateway runs in this process); `auto` is resolved to the core count. */
  readonly workers: number;
}
