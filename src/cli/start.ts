import cluster from 'node:cluster';
import { runPrimary } from '../cluster/primary.ts';
import { workerRole } from '../cluster/worker.ts';
import type { NodeSettings } from '../config/settings.ts';
import { watchFile, type FileWatch } from '../config/watch.ts';
import { Gateway } from '../gateway/gateway.ts';
import { ListenError } from '../gateway/listeners.ts';
import { TlsSetupError } from '../gateway/tls/self-signed.ts';
import { createAccessLogger, createLogger, type Logger } from '../observability/logger.ts';
import { loadPlugins, PluginLoadError } from '../plugins/load-plugins.ts';
import { engineFromSettings } from '../pubsub/engines/from-settings.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { VERSION } from '../version.ts';
import { applyConfigText, fileReloader, loadSnapshot } from './reload-file.ts';

export interface StartIo {
  readonly err: (line: string) => void;
}

/**
 * `sluice start`: load the declarative config, bind the listeners, log one parseable line
 * with the bound addresses, then live until SIGTERM/SIGINT (drain, exit 0). SIGHUP re-reads
 * the declarative file, and so does any change to it with `declarative_config_watch` (`--watch`);
 * a bad file is logged and the running config stays. What a reload does to open streams is the
 * Gateway's business (`Gateway.reload`).
 *
 * Resolves with the process exit code once the gateway has stopped (or failed to start).
 */
export async function runStart(settings: NodeSettings, io: StartIo, injected?: Logger): Promise<number> {
  const logger = injected ?? createLogger(settings.log_level, undefined, settings.log_format);
  const configPath = settings.declarative_config;
  if (settings.declarative_config_watch && !configPath) {
    io.err('sluice: declarative_config_watch (--watch) needs a declarative_config (-c) to watch');
    return 1;
  }
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
  // workers > 1: this process only supervises; each worker runs this same function (below).
  if (settings.workers > 1 && cluster.isPrimary) {
    return runPrimary({ workers: settings.workers, engine: settings.engine, logger, configHash: initial.snapshot.hash, err: io.err });
  }
  const worker = cluster.isWorker ? workerRole(settings) : undefined;

  // memory with workers: the primary's engine through IPC; otherwise the node's own (memory or redis).
  const engine = worker?.engine ?? (await engineFromSettings(settings, logger));
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({
      listen: { proxy: settings.proxy_listen, admin: settings.admin_listen, internal: settings.internal_listen, status: settings.status_listen },
      internalAccess: { allow: settings.internal_allow, ...(settings.internal_token ? { token: settings.internal_token } : {}) },
      ...(settings.internal_publisher_upstream !== undefined
        ? { internalPublisherUpstream: { url: settings.internal_publisher_upstream, timeoutMs: settings.internal_publisher_upstream_timeout } }
        : {}),
      snapshot: initial.snapshot,
      registry,
      trustedIps: settings.trusted_ips,
      realIpHeader: settings.real_ip_header,
      realIpRecursive: settings.real_ip_recursive,
      maxHeaderSize: settings.max_header_size,
      http2: {
        maxConcurrentStreams: settings.http2_max_concurrent_streams,
        maxHeaderListSize: settings.http2_max_header_size,
        maxConnections: settings.http2_max_connections,
      },
      clientMaxBodySize: settings.client_max_body_size,
      adminMaxBodySize: settings.admin_max_body_size,
      drainTimeoutMs: settings.drain_timeout * 1000,
      upstreamTlsVerify: settings.upstream_tls_verify,
      logger,
      metrics: settings.metrics,
      metricsPerConsumer: settings.metrics_per_consumer,
      accessLog: settings.access_log,
      // An injected logger (tests, embedding) takes the access lines too, line by line.
      ...(injected === undefined && settings.access_log ? { accessLogger: createAccessLogger(settings.log_level, settings.log_format) } : {}),
      engine,
      tls: {
        ...(settings.ssl_cert && settings.ssl_cert_key ? { defaultCertificate: { cert: settings.ssl_cert, key: settings.ssl_cert_key } } : {}),
        ...(settings.internal_client_ca !== undefined ? { internalClientCa: settings.internal_client_ca } : {}),
      },
      ...worker?.gatewayOptions,
    });
  } catch (error) {
    if (error instanceof ListenError || error instanceof TlsSetupError) {
      io.err(`sluice: ${error.message}`);
      return 1;
    }
    throw error;
  }
  if (worker) {
    worker.followConfig((text) => void applyConfigText(gateway, text, registry, logger));
    worker.ready(gateway.addresses);
  }
  else logger.info({ event: 'listening', version: VERSION, listeners: gateway.addresses, config_hash: initial.snapshot.hash }, 'sluice started');

  const reload = fileReloader(gateway, configPath, registry, logger);
  let watching: FileWatch | undefined;
  if (settings.declarative_config_watch && configPath) {
    try {
      watching = watchFile(configPath, () => void reload('watch'), {
        onError: (error) => logger.error({ event: 'watch_failed', code: 'WATCH_FAILED', file: configPath, err: error }, 'no longer watching the declarative config'),
      });
      logger.info({ event: 'watching', file: configPath }, 'reloading the declarative config when it changes');
    } catch (error) {
      logger.error({ event: 'watch_failed', code: 'WATCH_FAILED', file: configPath, err: error }, 'cannot watch the declarative config; SIGHUP still reloads');
    }
  }

  return new Promise<number>((resolve) => {
    const onHup = () => void reload('SIGHUP');
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ event: 'stopping', signal }, 'draining connections');
      process.off('SIGHUP', onHup);
      watching?.close();
      // The engine is given to the gateway, which leaves it open: closed here once it has stopped.
      void gateway.stop().then(() => engine.close()).then(() => registry.shutdown()).then(() => {
        logger.info({ event: 'stopped' }, 'sluice stopped');
        resolve(0);
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', onHup);
  });
}
