import type { Config } from './schema.ts';
import { PERIODS } from './windows.ts';

/**
 * Kong's entity checks that a JSON schema cannot say, with Kong's messages: at least one
 * limit, no larger window with a lower limit than a smaller one, and the fields `limit_by`
 * `header`/`path` and `policy: redis` need. Throws the first problem.
 */
export function checkConfig(config: Config): void {
  const set = PERIODS.filter((p) => typeof config[p] === 'number');
  if (set.length === 0) {
    throw new Error(`at least one of these fields must be non-empty: ${PERIODS.map((p) => `'config.${p}'`).join(', ')}`);
  }
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      const lower = set[i]!;
      const upper = set[j]!;
      const v1 = config[lower]!;
      const v2 = config[upper]!;
      if (v2 < v1) {
        throw new Error(`The limit for ${upper}(${v2.toFixed(1)}) cannot be lower than the limit for ${lower}(${v1.toFixed(1)})`);
      }
    }
  }
  if (config.limit_by === 'header' && !config.header_name) throw new Error("config.header_name: required field missing (limit_by is 'header')");
  if (config.limit_by === 'path' && !config.path) throw new Error("config.path: required field missing (limit_by is 'path')");
  if (config.policy === 'cluster') {
    throw new Error("config.policy: 'cluster' keeps counters in Kong's database and Sluice runs DB-less; use 'local' or 'redis'");
  }
  if (config.policy === 'redis' && !(config.redis?.host ?? config.redis_host) && !config.redis?.cluster_nodes) {
    throw new Error("config.redis.host: required field missing (policy is 'redis'; or set config.redis.cluster_nodes for a Redis Cluster)");
  }
}
