import { parseHookUrl, parseMilliseconds } from './hook-settings.ts';
import { parseListen } from './listen-address.ts';
import { parseLogFormat, parseLogLevel } from './log-settings.ts';
import type { NodeSettings } from './node-settings.ts';
import { parseRedisCommandTimeout, parseRedisNamespace, parseRedisReplicaWait, parseRedisUrl } from './redis-settings.ts';
import { readSettingsFile, type Sourced } from './settings-file.ts';
import { SettingsError } from './settings-error.ts';
import { SETTINGS, SPEC_BY_NAME, type SettingName } from './settings-table.ts';
import {
  parseBoolean,
  parseCidrList,
  parseCount,
  parseEngine,
  parseHeaderListSize,
  parsePluginList,
  parseRealIpHeader,
  parseSeconds,
  parseSize,
  parseWorkers,
} from './setting-values.ts';
import { checkTlsSettings, readPemFiles, type TlsNodeSettings } from './tls-settings.ts';

/**
 * Node settings (Kong's kong.conf layer): listeners, limits, trusted IPs, engine. Read from
 * a `key = value` file, `SLUICE_<NAME>` environment variables and CLI flags; flags win over
 * the environment, which wins over the file, which wins over the defaults. One spec list
 * ({@link SETTINGS}) drives the CLI options, the README reference and the parser, so they
 * cannot drift apart. Every error names where the bad value came from.
 *
 * This file is the public entry: it resolves the three layers into {@link NodeSettings} and
 * re-exports what importers use from the files that do each part.
 *
 * @example
 *   const settings = resolveSettings({ file: 'sluice.conf', env: process.env, flags: { workers: '2' } });
 */

export { type ListenAddress, parseListen } from './listen-address.ts';
export { type LogFormat, type LogLevel, pinoLevel } from './log-settings.ts';
export type { NodeSettings } from './node-settings.ts';
export { parseSettingsText, readSettingsFile } from './settings-file.ts';
export { SettingsError } from './settings-error.ts';
export { SETTING_NAMES, SETTINGS, type SettingName, type SettingSpec } from './settings-table.ts';
export { MAX_WORKERS, parseBoolean, parseCidrList, parseSize, parseWorkers } from './setting-values.ts';

export interface SettingsInput {
  /** Path of a kong.conf-style settings file. */
  readonly file?: string;
  readonly env: Record<string, string | undefined>;
  readonly flags: Partial<Record<SettingName, string>>;
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
