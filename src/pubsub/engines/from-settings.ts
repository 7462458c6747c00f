/**
 * The pub/sub engine a node's settings ask for: `memory`, or `redis` at `redis_url` under
 * `redis_namespace`. A redis engine gets up to `waitMs` to connect; if Redis is not there yet
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

export type EngineSettings = Pick<NodeSettings, 'engine' | 'redis_url' | 'redis_namespace'>;

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
