/**
 * A Redis for rate-limiting tests: `REDIS_URL` (default redis://127.0.0.1:6379). Outside CI a
 * missing Redis skips with a notice; in CI (`CI=true`) it fails the test.
 */
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import type { RedisConnection } from '../../src/plugins/bundled/rate-limiting/redis-store.ts';

const URL_TEXT = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function redisTarget(): RedisConnection {
  const url = new URL(URL_TEXT);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: Number(url.pathname.slice(1) || 0),
    timeout: 2000,
  };
}

function reachable({ host, port }: RedisConnection): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('close', () => resolve(false));
    socket.once('error', () => resolve(false));
  });
}

/** The Redis to use, or undefined after skipping (outside CI) when none answers. */
export async function requireRedis(t: TestContext): Promise<RedisConnection | undefined> {
  const target = redisTarget();
  if (await reachable(target)) return target;
  const missing = `no Redis answers at ${URL_TEXT} (set REDIS_URL)`;
  if (process.env.CI === 'true') throw new Error(`${missing} (required in CI)`);
  t.diagnostic(missing);
  t.skip(missing);
  return undefined;
}
