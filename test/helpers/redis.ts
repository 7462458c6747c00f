/**
 * Redis for tests. `requireRedis(t)` gives the URL of the shared Redis (`REDIS_URL`, default
 * `redis://127.0.0.1:6379`) when it answers; otherwise it fails the test when `CI=true` (`.ci/run`
 * starts one) and skips it with a visible notice elsewhere. Tests keep their keys under a
 * namespace of their own (`testNamespace()`) and drop it afterwards (`dropNamespace()`).
 *
 * For fault tests, `startRedisServer(t)` runs a private `redis-server` on a free loopback port
 * that the test may kill and restart (same port) at will.
 *
 * @example
 *   const url = await requireRedis(t); if (url === undefined) return;
 *   const ns = testNamespace('conformance');
 *   after(() => dropNamespace(url, ns));
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { dropNamespace, launchRedisServer, redisAnswers } from '../../bench/lib/bench-redis.ts';
import { freePort, hasCommand } from '../../bench/lib/processes.ts';
import type { RedisConnection } from '../../src/plugins/bundled/rate-limiting/redis-store.ts';
import { parseRedisUrl } from '../../src/redis/url.ts';

export const REDIS_MISSING = 'no Redis answers on REDIS_URL (default redis://127.0.0.1:6379): start one, e.g. redis-server --save "" --appendonly no';
export const REDIS_SERVER_MISSING = 'redis-server is not installed: apt-get install redis-server';

// Shared with the bench's Redis (bench/lib/bench-redis.ts): same probe, same clean-up.
export { dropNamespace, redisAnswers };

export const redisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function missing(t: TestContext, why: string): undefined {
  if (process.env.CI === 'true') throw new Error(`${why} (required in CI)`);
  t.diagnostic(why);
  t.skip(why);
  return undefined;
}

/** The shared Redis's URL, or undefined after skipping the test (outside CI) when none answers. */
export async function requireRedis(t: TestContext): Promise<string | undefined> {
  const url = redisUrl();
  return (await redisAnswers(url)) ? url : missing(t, REDIS_MISSING);
}

/**
 * The shared Redis as the rate-limiting plugin's connection fields (host, port, credentials,
 * database, a 2 s timeout), or undefined after skipping (outside CI) when none answers.
 */
export async function requireRedisConnection(t: TestContext): Promise<RedisConnection | undefined> {
  const url = await requireRedis(t);
  if (url === undefined) return undefined;
  const { host, port, username, password, database } = parseRedisUrl(url);
  return { host, port, username, password, database, timeout: 2000 };
}

/**
 * For suites registered at module level (no test context yet): the shared Redis's URL, or
 * undefined after registering one test named `name` that skips (or fails in CI) with the notice.
 */
export async function redisForSuite(name: string): Promise<string | undefined> {
  const url = redisUrl();
  if (await redisAnswers(url)) return url;
  test(name, (t) => void missing(t, REDIS_MISSING));
  return undefined;
}

/** A key prefix no other test run uses: `sluice-test:<label>:<random>:`. */
export function testNamespace(label: string): string {
  return `sluice-test:${label}:${randomBytes(6).toString('hex')}:`;
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILLs the server (no shutdown, no save); resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** SIGSTOPs the server: connections stay open, nothing answers (a hung Redis). */
  pause(): void;
  /** SIGCONTs it: it answers everything it was sent meanwhile. */
  resume(): void;
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve();
  else child.once('exit', () => resolve());
});

/** A private redis-server on a free port, or undefined after skipping (outside CI) when not installed. */
export async function startRedisServer(t: TestContext): Promise<PrivateRedis | undefined> {
  if (!hasCommand('redis-server')) return missing(t, REDIS_SERVER_MISSING);
  const port = await freePort();
  let child = await launchRedisServer(port);
  // A test process that dies mid-test must not leave its server behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const kill = async () => {
    const done = exited(child);
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await done;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: async () => {
      child = await launchRedisServer(port);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: async () => {
      process.off('exit', reap);
      await kill();
    },
  };
}
