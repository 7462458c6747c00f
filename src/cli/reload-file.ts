import { loadDeclarativeConfig, loadDeclarativeFile, formatConfigError } from '../config/load.ts';
import type { Snapshot } from '../config/types.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { Logger } from '../observability/logger.ts';
import type { PluginRegistry } from '../plugins/registry.ts';

export type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; errors: string[] };

/** The declarative file as a snapshot (an empty config without a file), or every error formatted. */
export async function loadSnapshot(path: string | undefined, registry: PluginRegistry): Promise<SnapshotResult> {
  const result = path
    ? await loadDeclarativeFile(path, { registry })
    : loadDeclarativeConfig('_format_version: "3.0"\n', { filename: '(empty)', registry });
  return result.ok ? { ok: true, snapshot: result.snapshot } : { ok: false, errors: result.errors.map(formatConfigError) };
}

/**
 * Re-reads the declarative file into the gateway (SIGHUP, `--watch`). Calls never overlap: one
 * that arrives while a reload runs is folded into a single reload after it, so the last file
 * content always wins. A broken file is logged (`reload_failed`, counted as a failed reload) and
 * the running config stays.
 *
 * ```ts
 * const reload = fileReloader(gateway, 'kong.yml', registry, logger);
 * process.on('SIGHUP', () => void reload('SIGHUP'));
 * ```
 */
export function fileReloader(gateway: Gateway, path: string | undefined, registry: PluginRegistry, logger: Logger): (trigger: string) => Promise<void> {
  let running: Promise<void> | undefined;
  let again: string | undefined;
  const once = async (trigger: string): Promise<void> => applySnapshot(gateway, await loadSnapshot(path, registry), trigger, logger);
  const reload = (trigger: string): Promise<void> => {
    if (running) {
      again = trigger;
      return running;
    }
    running = (async () => {
      let next: string | undefined = trigger;
      while (next !== undefined) {
        again = undefined;
        await once(next);
        next = again;
      }
    })().finally(() => (running = undefined));
    return running;
  };
  return reload;
}

/**
 * A config text applied to this worker because another worker's Admin API took it
 * (`POST /config` relayed by the primary): loaded and reloaded like a file.
 */
export function applyConfigText(gateway: Gateway, text: string, registry: PluginRegistry, logger: Logger): Promise<void> {
  const result = loadDeclarativeConfig(text, { filename: 'config', registry });
  const snapshot: SnapshotResult = result.ok ? { ok: true, snapshot: result.snapshot } : { ok: false, errors: result.errors.map(formatConfigError) };
  return applySnapshot(gateway, snapshot, 'admin_relay', logger);
}

async function applySnapshot(gateway: Gateway, result: SnapshotResult, trigger: string, logger: Logger): Promise<void> {
  if (!result.ok) {
    gateway.metrics?.configReload('failed');
    logger.error({ event: 'reload_failed', trigger, code: 'CONFIG_INVALID', errors: result.errors }, 'reload rejected; keeping the running config');
    return;
  }
  try {
    const done = await gateway.reload(result.snapshot);
    logger.info({ event: 'reloaded', trigger, config_hash: done.configHash, streams_kept: done.kept, streams_closed: done.closed }, 'configuration reloaded');
  } catch (error) {
    logger.error({ event: 'reload_failed', trigger, code: 'CONFIG_INVALID', errors: [(error as Error).message] }, 'reload rejected; keeping the running config');
  }
}
