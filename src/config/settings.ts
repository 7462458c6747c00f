import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { isHostname } from './hostnames.ts';
import { parseHookUrl, parseMilliseconds } from './hook-settings.ts';
import { parseRedisCommandTimeout, parseRedisNamespace, parseRedisReplicaWait, parseRedisUrl } from './redis-settings.ts';
import { checkTlsSettings, readPemFiles, type TlsNodeSettings } from './tls-settings.ts';

/**
 * Node settings (Kong's kong.conf layer): listeners, limits, trusted IPs, engine. Read from
 * a `key = value` file, `SLUICE_<NAME>` environment variables and CLI flags; flags win over
 * the environment, which wins over the file, which wins over the defaults. One spec list
 * ({@link SETTINGS}) drives the CLI options, the README reference and the parser, so they
 * cannot drift apart. Every error names where the bad value came from.
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

const SPEC_BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]));

/** One address a listener binds; same shape as the gateway's `ListenAddress`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly ssl?: boolean;
  readonly http2?: boolean;
}

export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit' | 'alert' | 'emerg';
const LOG_LEVELS: Record<LogLevel, string> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  error: 'error',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
};

export type LogFormat = 'json' | 'pretty' | 'auto';

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
  /** Kong's level name; {@link pinoLevel} maps it. */
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

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export function pinoLevel(level: LogLevel): string {
  return LOG_LEVELS[level];
}

export interface SettingsInput {
  /** Path of a kong.conf-style settings file. */
  readonly file?: string;
  readonly env: Record<string, string | undefined>;
  readonly flags: Partial<Record<SettingName, string>>;
}

/** A raw value and the human-readable source it came from (`SLUICE_PROXY_LISTEN`, `sluice.conf:3`). */
interface Sourced {
  readonly value: string;
  readonly source: string;
}

export function resolveSettings(input: SettingsInput): NodeSettings {
  const raw = new Map<SettingName, Sourced>();
  for (const s of SETTINGS) if (s.default !== undefined) raw.set(s.name, { value: s.default, source: `default ${s.name}` });
  if (input.file !== undefined) {
    for (const [name, sourced] of readSettingsFile(input.file)) raw.set(name, sourced);
  }
  for (const s of SETTINGS) {
    const value = input.env[s.env];
    if (value !== undefined && value.trim() !== '') raw.set(s.name, { value: value.trim(), source: s.env });
  }
  for (const [name, value] of Object.entries(input.flags) as [SettingName, string | undefined][]) {
    const s = SPEC_BY_NAME.get(name);
    if (!s) throw new SettingsError(`unknown setting '${name}'`);
    if (value !== undefined && value.trim() !== '') raw.set(name, { value: value.trim(), source: s.flag });
  }
  return build(raw);
}

/** kong.conf syntax: `key = value`, `#` starts a comment (`\#` is a literal `#`). */
export function readSettingsFile(path: string): Map<SettingName, Sourced> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`${path}: cannot read settings file: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseSettingsText(text, path);
}

export function parseSettingsText(text: string, filename: string): Map<SettingName, Sourced> {
  const out = new Map<SettingName, Sourced>();
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${filename}:${i + 1}`;
    const content = line.replace(/(^|[^\\])#.*$/, '$1').replace(/\\#/g, '#').trim();
    if (content === '') return;
    const eq = content.indexOf('=');
    if (eq === -1) throw new SettingsError(`${where}: expected 'key = value', got "${content}"`);
    const key = content.slice(0, eq).trim().toLowerCase();
    const value = content.slice(eq + 1).trim();
    if (!SPEC_BY_NAME.has(key as SettingName)) throw new SettingsError(`${where}: unknown setting '${key}'`);
    if (value !== '') out.set(key as SettingName, { value, source: `${where}: ${key}` });
  });
  return out;
}

function build(raw: ReadonlyMap<SettingName, Sourced>): NodeSettings {
  const get = <T>(name: SettingName, parse: (value: string) => T): T | undefined => {
    const sourced = raw.get(name);
    if (sourced === undefined) return undefined;
    try {
      return parse(sourced.value);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new SettingsError(`${sourced.source}: ${message}`);
    }
  };
  const need = <T>(name: SettingName, parse: (value: string) => T): T => {
    const value = get(name, parse);
    if (value === undefined) throw new SettingsError(`${name}: missing value`);
    return value;
  };
  const identity = (v: string) => v;

  const engine = need('engine', parseEngine);
  const redisUrl = get('redis_url', parseRedisUrl);
  if (engine === 'redis' && redisUrl === undefined) {
    throw new SettingsError(`${raw.get('engine')?.source ?? 'engine'}: engine 'redis' needs redis_url`);
  }
  const declarative = get('declarative_config', identity);
  const pluginsPath = get('plugins_path', identity);
  const token = get('internal_token', identity);
  const sslCert = get('ssl_cert', (v) => readPemFiles(v, 'certificate'));
  const sslCertKey = get('ssl_cert_key', (v) => readPemFiles(v, 'private key'));
  const clientCa = get('internal_client_ca', (v) => readPemFiles(v, 'certificate').join('\n'));
  const internalListen = need('internal_listen', parseListen);
  const publisherUpstream = get('internal_publisher_upstream', parseHookUrl) ?? undefined;
  const tls: TlsNodeSettings = {
    ...(sslCert !== undefined ? { ssl_cert: sslCert } : {}),
    ...(sslCertKey !== undefined ? { ssl_cert_key: sslCertKey } : {}),
    ...(clientCa !== undefined ? { internal_client_ca: clientCa } : {}),
  };
  try {
    checkTlsSettings({ ...tls, internal_listen: internalListen }, (name) => raw.get(name)?.source ?? name);
  } catch (err) {
    throw new SettingsError(err instanceof Error ? err.message : String(err));
  }
  return {
    ...tls,
    proxy_listen: need('proxy_listen', parseListen),
    admin_listen: need('admin_listen', parseListen),
    internal_listen: internalListen,
    status_listen: need('status_listen', parseListen),
    ...(declarative !== undefined ? { declarative_config: declarative } : {}),
    declarative_config_watch: need('declarative_config_watch', parseBoolean),
    trusted_ips: get('trusted_ips', parseCidrList) ?? [],
    real_ip_header: need('real_ip_header', parseRealIpHeader),
    real_ip_recursive: need('real_ip_recursive', parseBoolean),
    log_level: need('log_level', parseLogLevel),
    log_format: need('log_format', parseLogFormat),
    access_log: need('access_log', parseBoolean),
    metrics: need('metrics', parseBoolean),
    metrics_per_consumer: need('metrics_per_consumer', parseBoolean),
    client_max_body_size: need('client_max_body_size', parseSize),
    admin_max_body_size: need('admin_max_body_size', parseSize),
    max_header_size: need('max_header_size', parseSize),
    http2_max_concurrent_streams: need('http2_max_concurrent_streams', (v) => parseCount(v, 1, 2 ** 31 - 1)),
    http2_max_header_size: need('http2_max_header_size', parseHeaderListSize),
    http2_max_connections: need('http2_max_connections', (v) => parseCount(v, 0, 2 ** 31 - 1)),
    drain_timeout: need('drain_timeout', parseSeconds),
    upstream_tls_verify: need('upstream_tls_verify', parseBoolean),
    plugins: need('plugins', parsePluginList),
    ...(pluginsPath !== undefined ? { plugins_path: pluginsPath } : {}),
    engine,
    ...(redisUrl !== undefined ? { redis_url: redisUrl } : {}),
    redis_namespace: need('redis_namespace', parseRedisNamespace),
    redis_command_timeout: need('redis_command_timeout', parseRedisCommandTimeout),
    redis_replica_wait: need('redis_replica_wait', parseRedisReplicaWait),
    internal_allow: need('internal_allow', parseCidrList),
    ...(token !== undefined ? { internal_token: token } : {}),
    ...(publisherUpstream !== undefined ? { internal_publisher_upstream: publisherUpstream } : {}),
    internal_publisher_upstream_timeout: need('internal_publisher_upstream_timeout', parseMilliseconds),
    workers: need('workers', parseWorkers),
  };
}

const LISTEN_FLAGS = new Set(['ssl', 'http2']);

/** `0.0.0.0:8000, [::1]:8443 ssl http2` → addresses; `off` → none. */
export function parseListen(value: string): ListenAddress[] {
  if (value.trim().toLowerCase() === 'off') return [];
  return value.split(',').map((entry) => {
    const [address = '', ...flags] = entry.trim().split(/\s+/);
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
    if (!m) throw new Error(`invalid listen address "${entry.trim()}": expected host:port or [ipv6]:port, or off`);
    const host = m[1] ?? m[2] ?? '';
    const port = Number(m[3]);
    if (m[1] !== undefined && isIP(host) !== 6) throw new Error(`invalid listen address "${address}": "${host}" is not an IPv6 address`);
    if (m[2] !== undefined && isIP(host) === 0 && !isHostname(host)) throw new Error(`invalid listen address "${address}": bad host "${host}"`);
    if (port > 65535) throw new Error(`invalid listen address "${address}": port must be 0..65535`);
    const out: { host: string; port: number; ssl?: boolean; http2?: boolean } = { host, port };
    for (const flag of flags) {
      if (!LISTEN_FLAGS.has(flag)) throw new Error(`invalid listen flag "${flag}" in "${entry.trim()}" (supported: ssl, http2)`);
      out[flag as 'ssl' | 'http2'] = true;
    }
    return out;
  });
}

/** Comma-separated IPs and CIDRs (v4 and v6), validated with node:net. */
export function parseCidrList(value: string): string[] {
  if (value.trim().toLowerCase() === 'off') return [];
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((entry) => {
      const [ip = '', prefix, extra] = entry.split('/');
      const family = isIP(ip);
      if (family === 0 || extra !== undefined) throw new Error(`invalid IP or CIDR "${entry}"`);
      if (prefix !== undefined) {
        const bits = family === 4 ? 32 : 128;
        if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) throw new Error(`invalid CIDR "${entry}": prefix must be 0..${bits}`);
      }
      return entry;
    });
}

function parseRealIpHeader(value: string): string {
  if (value.toLowerCase() === 'proxy_protocol') {
    throw new Error('real_ip_header "proxy_protocol" is not supported; use a header set by the load balancer (e.g. X-Forwarded-For)');
  }
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw new Error(`invalid header name "${value}"`);
  return value.toLowerCase();
}

export function parseBoolean(value: string): boolean {
  const v = value.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new Error(`invalid boolean "${value}" (use on or off)`);
}

function parseLogLevel(value: string): LogLevel {
  const v = value.toLowerCase();
  if (!(v in LOG_LEVELS)) throw new Error(`invalid log level "${value}" (use ${Object.keys(LOG_LEVELS).join(', ')})`);
  return v as LogLevel;
}

function parseLogFormat(value: string): LogFormat {
  const v = value.toLowerCase();
  if (v === 'json' || v === 'pretty' || v === 'auto') return v;
  throw new Error(`invalid log format "${value}" (use json, pretty or auto)`);
}

/** nginx sizes: `512`, `16k`, `8m`, `1g` → bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(value);
  if (!m) throw new Error(`invalid size "${value}" (bytes, or a number with k, m or g)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** A whole number in `min..max`. */
function parseCount(value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new Error(`invalid number "${value}" (a whole number from ${min} to ${max})`);
  return Number(value);
}

/** HTTP/2 SETTINGS values are 32-bit; a header list under 1k would refuse ordinary requests. */
function parseHeaderListSize(value: string): number {
  const size = parseSize(value);
  if (size < 1024 || size > 2 ** 32 - 1) throw new Error(`invalid size "${value}" (from 1k to 4g - 1)`);
  return size;
}

function parseSeconds(value: string): number {
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(value);
  if (!m) throw new Error(`invalid duration "${value}" (seconds)`);
  return Number(m[1]);
}

function parsePluginList(value: string): string[] {
  if (value.trim().toLowerCase() === 'off') return [];
  const names = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  for (const n of names) if (!/^[a-z0-9][a-z0-9_-]*$/i.test(n)) throw new Error(`invalid plugin name "${n}"`);
  return names;
}

function parseEngine(value: string): 'memory' | 'redis' {
  const v = value.toLowerCase();
  if (v === 'memory' || v === 'redis') return v;
  throw new Error(`invalid engine "${value}" (use memory or redis)`);
}

export const MAX_WORKERS = 64;

/** `4` → 4; `auto` → one per core the process may use. */
export function parseWorkers(value: string): number {
  if (value.toLowerCase() === 'auto') return Math.min(MAX_WORKERS, availableParallelism());
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) {
    throw new Error(`invalid workers "${value}" (a number from 1 to ${MAX_WORKERS}, or auto)`);
  }
  return Number(value);
}
