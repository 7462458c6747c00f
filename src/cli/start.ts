import type { NodeSettings } from '../config/settings.ts';
import { loadDeclarativeConfig, loadDeclarativeFile, formatConfigError } from '../config/load.ts';
import type { Snapshot } from '../config/types.ts';
import { Gateway } from '../gateway/gateway.ts';
import { ListenError } from '../gateway/listeners.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { loadPlugins, PluginLoadError } from '../plugins/load-plugins.ts';
import { engineFromSettings } from '../pubsub/engines/from-settings.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { VERSION } from '../version.ts';

export interface StartIo {
  readonly err: (line: string) => void;
}

/**
 * `sluice start`: load the declarative config, bind the listeners, log one parseable line
 * with the bound addresses, then live until SIGTERM/SIGINT (drain, exit 0). SIGHUP re-reads
 * the declarative file; a bad file is logged and the running config stays.
 *
 * Resolves with the process exit code once the gateway has stopped (or failed to start).
 */
export async function runStart(settings: NodeSettings, io: StartIo, logger: Logger = createLogger(settings.log_level)): Promise<number> {
  const configPath = settings.declarative_config;
  let registry: PluginRegistry;
  try {
    registry = await loadPlugins(settings.plugins, settings.plugins_path);
  } catch (error) {
    if (!(error instanceof PluginLoadError)) throw error;
    io.err(`sluice: ${error.message}`);
    return 1;
  }
  const initial = await loadSnapshot(configPath, registry);
  if (!initial.ok) {
    for (const line of initial.errors) io.err(line);
    return 1;
  }
  if (!configPath) logger.warn('no declarative_config given: starting with an empty configuration');

  const engine = await engineFromSettings(settings, logger);
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({
      listen: { proxy: settings.proxy_listen, admin: settings.admin_listen, internal: settings.internal_listen, status: settings.status_listen },
      internalAccess: { allow: settings.internal_allow, ...(settings.internal_token ? { token: settings.internal_token } : {}) },
      snapshot: initial.snapshot,
      registry,
      trustedIps: settings.trusted_ips,
      realIpHeader: settings.real_ip_header,
      realIpRecursive: settings.real_ip_recursive,
      maxHeaderSize: settings.max_header_size,
      clientMaxBodySize: settings.client_max_body_size,
      drainTimeoutMs: settings.drain_timeout * 1000,
      logger,
      engine: () => engine,
    });
  } catch (error) {
    if (error instanceof ListenError) {
      io.err(`sluice: ${error.message}`);
      return 1;
    }
    throw error;
  }
  logger.info({ event: 'listening', version: VERSION, listeners: gateway.addresses, config_hash: initial.snapshot.hash }, 'sluice started');

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ event: 'stopping', signal }, 'draining connections');
      process.off('SIGHUP', reload);
      void gateway.stop().then(() => {
        logger.info({ event: 'stopped' }, 'sluice stopped');
        resolve(0);
      });
    };
    const reload = () => {
      void loadSnapshot(configPath, registry).then((result) => {
        if (!result.ok) {
          logger.error({ event: 'reload_failed', code: 'CONFIG_INVALID', errors: result.errors }, 'reload rejected; keeping the running config');
          return;
        }
        try {
          gateway.reload(result.snapshot);
        } catch (error) {
          logger.error({ event: 'reload_failed', code: 'CONFIG_INVALID', errors: [(error as Error).message] }, 'reload rejected; keeping the running config');
          return;
        }
        logger.info({ event: 'reloaded', config_hash: result.snapshot.hash }, 'configuration reloaded');
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', reload);
  });
}

type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; errors: string[] };

async function loadSnapshot(path: string | undefined, registry: PluginRegistry): Promise<SnapshotResult> {
  const result = path
    ? await loadDeclarativeFile(path, { registry })
    : loadDeclarativeConfig('_format_version: "3.0"\n', { filename: '(empty)', registry });
  return result.ok ? { ok: true, snapshot: result.snapshot } : { ok: false, errors: result.errors.map(formatConfigError) };
}
