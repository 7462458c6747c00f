/**
 * Parsers of the redis engine's node settings: `redis_url`, `redis_namespace`, and the two
 * bounds on waiting for Redis, `redis_command_timeout` and `redis_replica_wait` (milliseconds,
 * an optional `ms` suffix). They throw a plain Error with the reason; the settings resolver adds
 * where the value came from (`SLUICE_REDIS_COMMAND_TIMEOUT: invalid redis_command_timeout ...`).
 *
 * @example
 *   parseRedisCommandTimeout('1500'); // 1500
 *   parseRedisReplicaWait('0'); // 0: publishes on a cluster do not wait for a replica
 */
import { parseRedisUrl as parseRedisTarget } from '../redis/url.ts';

const MAX_MS = 600_000;

/** A redis URL, checked (scheme, host, database number) and kept as written. */
export function parseRedisUrl(value: string): string {
  parseRedisTarget(value); // throws with the reason
  return value;
}

export function parseRedisNamespace(value: string): string {
  // No braces: they would change the Redis Cluster hash tag of every key.
  if (!/^[\x21-\x7a|~]{1,100}$/.test(value)) throw new Error(`invalid redis_namespace "${value}" (1-100 printable characters, no spaces, no braces)`);
  return value;
}

function milliseconds(name: string, value: string, min: number): number {
  const m = /^(\d+)(?:ms)?$/.exec(value);
  if (!m || Number(m[1]) < min || Number(m[1]) > MAX_MS) throw new Error(`invalid ${name} "${value}" (milliseconds, ${min} to ${MAX_MS})`);
  return Number(m[1]);
}

/** Longest wait for any one Redis call before the engine answers 503: 1 to 600000 ms. */
export const parseRedisCommandTimeout = (value: string): number => milliseconds('redis_command_timeout', value, 1);

/** Longest wait for a cluster replica to confirm a publish: 0 (do not wait) to 600000 ms. */
export const parseRedisReplicaWait = (value: string): number => milliseconds('redis_replica_wait', value, 0);
