/**
 * The Redis the cluster benchmark's redis rows run on: a private `redis-server` on a free loopback
 * port (so nothing else's traffic is in the command counts), else the shared one at `REDIS_URL`
 * with a notice, else none (the caller skips the redis rows with the reason). Keys go under a
 * fresh namespace per row (`benchNamespace()`); `dropNamespace()` clears them on a shared Redis.
 *
 * `test/helpers/redis.ts` reuses the start-up (`launchRedisServer`), `redisAnswers` and
 * `dropNamespace` (tests may import bench/lib; bench code does not import from test/).
 *
 * @example
 *   const redis = await benchRedis();
 *   if (redis.url === undefined) console.log(redis.notice); // skip the redis rows
 *   … ; await redis.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { freePort, hasCommand } from './processes.ts';

export interface BenchRedis {
  /** Undefined when no Redis can be used: `notice` says why. */
  readonly url: string | undefined;
  /** `private` (started here, counts are this bench's alone) or `shared` (REDIS_URL). */
  readonly kind: 'private' | 'shared' | 'none';
  /** The private server's pid, for its CPU time. */
  readonly pid: number | undefined;
  readonly notice: string | undefined;
  stop(): Promise<void>;
}

const sharedUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when a Redis at `url` answers PING within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Starts `redis-server` on loopback `port` (no persistence); resolves once it answers PING. */
export async function launchRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    if (await redisAnswers(url, 500)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

export async function benchRedis(): Promise<BenchRedis> {
  const none = async () => {};
  let why = 'redis-server is not installed (apt-get install redis-server)';
  if (hasCommand('redis-server')) {
    try {
      const port = await freePort();
      const child = await launchRedisServer(port);
      // A bench that dies half-way must not leave its server behind.
      const reap = () => child.kill('SIGKILL');
      process.once('exit', reap);
      const stop = () =>
        new Promise<void>((resolve) => {
          process.off('exit', reap);
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        });
      return { url: `redis://127.0.0.1:${port}`, kind: 'private', pid: child.pid, notice: undefined, stop };
    } catch (error) {
      why = (error as Error).message;
    }
  }
  const url = sharedUrl();
  if (await redisAnswers(url)) {
    const notice = `${why}: the redis rows use the shared Redis at REDIS_URL (${url}); its command counts include any other client's traffic during the run`;
    return { url, kind: 'shared', pid: undefined, notice, stop: none };
  }
  return { url: undefined, kind: 'none', pid: undefined, notice: `${why}, and no Redis answers at REDIS_URL (${url}): redis rows skipped`, stop: none };
}

/** A key prefix no other run uses: `sluice-bench:<random>:`. */
export function benchNamespace(): string {
  return `sluice-bench:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `namespace` (on a shared Redis; a private one is simply killed). */
export async function dropNamespace(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  try {
    const doomed: string[] = [];
    for await (const keys of client.scanIterator({ MATCH: `${namespace}*`, COUNT: 500 })) doomed.push(...keys);
    for (let i = 0; i < doomed.length; i += 500) await client.del(doomed.slice(i, i + 500));
  } finally {
    client.destroy();
  }
}
