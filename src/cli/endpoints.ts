/**
 * Where the operator commands find the node: `--admin-url` / `SLUICE_ADMIN_URL` and
 * `--internal-url` / `SLUICE_INTERNAL_URL` when given, else the node settings (`-s <file>` /
 * `SLUICE_CONF` plus `SLUICE_*`, as `sluice start` reads them): the first `admin_listen` /
 * `internal_listen` address, a wildcard host (`0.0.0.0`, `::`) reached on loopback. The
 * internal listener's bearer token comes from `internal_token` (`SLUICE_INTERNAL_TOKEN`).
 *
 * @example
 *   adminEndpoint({})                                   // { name: 'admin API', url: 'http://127.0.0.1:8001' }
 *   internalEndpoint({ internalUrl: 'http://10.0.0.5:8010' })
 */
import { SettingsError, resolveSettings, type ListenAddress, type NodeSettings } from '../config/settings.ts';
import { CliError, parseBaseUrl, type Endpoint } from './api-client.ts';

export interface EndpointOptions {
  readonly adminUrl?: string;
  readonly internalUrl?: string;
  /** A settings file (`-s`), else `SLUICE_CONF`. */
  readonly settings?: string;
}

function settingsFrom(options: EndpointOptions, env: NodeJS.ProcessEnv): NodeSettings {
  const file = options.settings ?? env.SLUICE_CONF;
  try {
    return resolveSettings({ ...(file ? { file } : {}), env, flags: {} });
  } catch (error) {
    if (error instanceof SettingsError) throw new CliError(error.message);
    throw error;
  }
}

/** The URL a local client reaches a listen address on. */
export function listenUrl(address: ListenAddress): string {
  let host = address.host;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return `${address.ssl === true ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

function fromSettings(addresses: readonly ListenAddress[], setting: string, flag: string): string {
  const first = addresses[0];
  if (first === undefined) throw new CliError(`the ${setting} setting is off: pass ${flag}`);
  return listenUrl(first);
}

export function adminEndpoint(options: EndpointOptions, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const given = options.adminUrl ?? env.SLUICE_ADMIN_URL;
  const url = given ? parseBaseUrl(given, 'admin API') : fromSettings(settingsFrom(options, env).admin_listen, 'admin_listen', '--admin-url');
  return { name: 'admin API', url };
}

export function internalEndpoint(options: EndpointOptions, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const given = options.internalUrl ?? env.SLUICE_INTERNAL_URL;
  // The token may live in the settings file; read it only when there is one or no URL was given.
  const settings = given && !options.settings && !env.SLUICE_CONF ? undefined : settingsFrom(options, env);
  const url = given ? parseBaseUrl(given, 'internal listener') : fromSettings(settings?.internal_listen ?? [], 'internal_listen', '--internal-url');
  const token = settings?.internal_token ?? env.SLUICE_INTERNAL_TOKEN;
  return { name: 'internal listener', url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) };
}
