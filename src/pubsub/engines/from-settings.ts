/**
 * The pub/sub engine a node's settings ask for: `memory`, or `redis` at `redis_url` under
 * `redis_namespace`, each call bounded by `redis_command_timeout` (and, on a cluster, publishes
 * waiting up to `redis_replica_wait` for a replica). A redis engine gets up to `waitMs` to connect; if Redis is not there yet
 * the node starts anyway (publishing answers 503 until it is) and says so in the log.
 *
 * @example
 *   const engine = await engineFromSettings(settings, logger);
 *   await Gateway.start({ ...options, engine }); // the caller closes it after gateway.stop()
 */
import type { NodeSettings } from '../../config/settings.ts';
import type { Logger } from '../../observability/logger.ts';
import { describeRedis, parseRedisUrl } from '../../redis/url.ts';
import type { Engine } from '../engine.ts';
import { createMemoryEngine } from './memory/index.ts';

/** Unset bounds take the engine's defaults (3000 ms per call, 1000 ms for a replica). */
export type EngineSettings = Pick<NodeSettings, 'engine' | 'redis_url' | 'redis_namespace'> & Partial<Pick<NodeSettings, 'redis_command_timeout' | 'redis_replica_wait'>>;

/** Connection errors repeat on every reconnect attempt: log one per this many ms. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export async function engineFromSettings(settings: EngineSettings, logger: Logger, waitMs = 5000): Promise<Engine> {
  if (settings.engine === 'memory') return createMemoryEngine();
  // Loaded on demand: a memory node never loads the Redis client.
  const { createRedisEngine } = await import('./redis/index.ts');
  const target = parseRedisUrl(settings.redis_url ?? '');
  const redis = describeRedis(target);
  let lastLogged = 0;
  const engine = createRedisEngine({
    target,
    namespace: settings.redis_namespace,
    ...(settings.redis_command_timeout !== undefined ? { commandTimeoutMs: settings.redis_command_timeout } : {}),
    ...(settings.redis_replica_wait !== undefined ? { replicaWaitMs: settings.redis_replica_wait } : {}),
    onError: (error, context) => {
      const now = Date.now();
      if (now - lastLogged < ERROR_LOG_INTERVAL_MS) return;
      lastLogged = now;
      logger.warn({ event: 'engine_error', engine: 'redis', redis, context, error: error.message }, 'redis engine: Redis is unreachable or refused a call');
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const connected = await Promise.race([
    engine.ready().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs))),
  ]);
  clearTimeout(timer);
  if (connected) logger.info({ event: 'engine_ready', engine: 'redis', redis, node_id: engine.nodeId }, 'redis engine connected');
  else {
    logger.warn({ event: 'engine_unavailable', engine: 'redis', redis }, 'redis engine: Redis is not reachable yet; pub/sub answers 503 until it is');
    void engine.ready().then(() => logger.info({ event: 'engine_ready', engine: 'redis', redis, node_id: engine.nodeId }, 'redis engine connected'));
  }
  return engine;
}
