/**
 * A private Redis Cluster for tests: three masters (optionally each with one replica) started
 * from `redis-server --cluster-enabled yes` on free loopback ports in a temp dir, joined with
 * `redis-cli --cluster create`, ready once every node says `cluster_state:ok` (and, with
 * replicas, every master has its replica attached). Starting one takes a few seconds: share one
 * per test file. Outside CI a missing `redis-server` skips with a notice; in CI it fails.
 *
 * @example
 *   const cluster = await startRedisCluster(t, { replicas: true }); if (cluster === undefined) return;
 *   after(() => cluster.stop());
 *   createRedisEngine({ url: cluster.url }); // redis+cluster://127.0.0.1:P1,…
 *   const [victim] = await cluster.masters(); await cluster.kill(victim.port); await cluster.failedOver(victim.port);
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import { freePort } from '../../bench/lib/processes.ts';
import { keySlot } from '../../src/redis/slot.ts';
import { REDIS_SERVER_MISSING } from './redis.ts';

export interface ClusterNode {
  readonly port: number;
  /** The slot ranges it serves (masters only), `[from, to]` inclusive. */
  readonly slots: readonly (readonly [number, number])[];
}

export interface RedisCluster {
  /** `redis+cluster://` URL naming every node as a seed. */
  readonly url: string;
  readonly ports: readonly number[];
  /** The current masters, as the cluster sees them (failed nodes left out). */
  masters(): Promise<ClusterNode[]>;
  /** The port of the master currently serving `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs one node; resolves once it has exited. */
  kill(port: number): Promise<void>;
  /** SIGSTOP / SIGCONT one node. */
  pause(port: number): void;
  resume(port: number): void;
  /** Resolves once no live master is `port` and the cluster is ok again (a replica took over). */
  failedOver(port: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** One replica per master (six nodes), for failover tests. */
  readonly replicas?: boolean;
  /** `cluster-node-timeout`: how soon a dead master is failed over (default 1000 ms). */
  readonly nodeTimeoutMs?: number;
}

const HOST = '127.0.0.1';

async function command(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  const client = createClient({ socket: { host: HOST, port, connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    return String(await client.sendCommand(args));
  } finally {
    if (client.isOpen) client.destroy();
  }
}

const answers = (port: number) => command(port, ['PING'], 500).then((r) => r === 'PONG', () => false);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await pause(100);
  }
}

interface NodeLine {
  port: number;
  flags: string[];
  slots: [number, number][];
  masterId: string;
  id: string;
  linked: boolean;
}

/** `CLUSTER NODES` as seen from `port`. */
async function nodes(port: number): Promise<NodeLine[]> {
  const text = await command(port, ['CLUSTER', 'NODES']);
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, masterId, , , , link, ...slots] = line.split(' ');
    return {
      id: id ?? '',
      port: Number(/:(\d+)@/.exec(address ?? '')?.[1]),
      flags: (flags ?? '').split(','),
      masterId: masterId ?? '-',
      linked: link === 'connected',
      slots: slots.filter((s) => /^\d/.test(s)).map((s) => {
        const [from, to] = s.split('-').map(Number);
        return [from as number, to ?? (from as number)];
      }),
    };
  });
}

/** Why a cluster cannot be started here, or undefined when the tools are installed. */
function missingTools(): string | undefined {
  for (const tool of ['redis-server', 'redis-cli']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
      return tool === 'redis-server' ? REDIS_SERVER_MISSING : 'redis-cli is not installed: apt-get install redis-tools';
    }
  }
  return undefined;
}

/**
 * For a test file sharing one cluster (registered at module level): the cluster, or undefined
 * after registering one test named `name` that skips (or fails in CI) with the reason.
 */
export async function redisClusterForSuite(name: string, options: ClusterOptions = {}): Promise<RedisCluster | undefined> {
  const why = missingTools();
  if (why === undefined) return launchCluster(options);
  test(name, (t) => {
    if (process.env.CI === 'true') throw new Error(`${why} (required in CI)`);
    t.diagnostic(why);
    t.skip(why);
  });
  return undefined;
}

/** A cluster for one test, or undefined after skipping it (outside CI) when the tools are missing. */
export async function startRedisCluster(t: TestContext, options: ClusterOptions = {}): Promise<RedisCluster | undefined> {
  const why = missingTools();
  if (why === undefined) return launchCluster(options);
  if (process.env.CI === 'true') throw new Error(`${why} (required in CI)`);
  t.diagnostic(why);
  t.skip(why);
  return undefined;
}

async function launchCluster(options: ClusterOptions): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-cluster-'));
  const count = options.replicas === true ? 6 : 3;
  const children = new Map<number, ChildProcess>();
  const reap = () => {
    for (const child of children.values()) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const bus = await freePort();
      ports.push(port);
      children.set(port, spawn('redis-server', [
        '--port', String(port), '--bind', HOST, '--cluster-enabled', 'yes', '--cluster-port', String(bus),
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
        // A replica whose master died takes over however long it was disconnected.
        '--cluster-replica-validity-factor', '0',
        '--save', '', '--appendonly', 'no',
      ], { stdio: 'ignore' }));
    }
    for (const port of ports) await until(`redis-server on ${port}`, 5000, () => answers(port));
    const created = spawnSync('redis-cli', [
      '--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', options.replicas === true ? '1' : '0', '--cluster-yes',
    ], { encoding: 'utf8', timeout: 20_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await until('cluster_state:ok on every node', 20_000, async () => {
      for (const port of ports) {
        if (!(await command(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
        const seen = await nodes(port);
        if (seen.length !== count || seen.some((n) => !n.linked && !n.flags.includes('myself'))) return false;
      }
      return true;
    });
    if (options.replicas === true) {
      // WAIT 1 needs every master's replica attached and in sync.
      await until('every master to have its replica', 20_000, async () => {
        for (const n of (await nodes(ports[0] as number)).filter((x) => x.flags.includes('master'))) {
          if (!/connected_slaves:1/.test(await command(n.port, ['INFO', 'replication']))) return false;
          if (!/slave0:[^\n]*state=online/.test(await command(n.port, ['INFO', 'replication']))) return false;
        }
        return true;
      });
    }
  } catch (e) {
    reap();
    process.off('exit', reap);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const alive = () => [...children.entries()].filter(([, c]) => c.exitCode === null && c.signalCode === null).map(([p]) => p);
  const masters = async (): Promise<ClusterNode[]> => {
    for (const port of alive()) {
      try {
        const seen = await nodes(port);
        return seen.filter((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.length > 0).map(({ port: p, slots }) => ({ port: p, slots }));
      } catch {
        // that node may be paused: ask another
      }
    }
    throw new Error('redis cluster: no node answers');
  };
  return {
    url: `redis+cluster://${ports.map((p) => `${HOST}:${p}`).join(',')}`,
    ports,
    masters,
    masterOf: async (key) => {
      const slot = keySlot(key);
      const owner = (await masters()).find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
      if (owner === undefined) throw new Error(`redis cluster: no master serves slot ${slot}`);
      return owner.port;
    },
    kill: async (port) => {
      const child = children.get(port);
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    pause: (port) => void children.get(port)?.kill('SIGSTOP'),
    resume: (port) => void children.get(port)?.kill('SIGCONT'),
    failedOver: (port, timeoutMs = 15_000) => until(`a replica to take over from ${port}`, timeoutMs, async () => {
      const live = alive().filter((p) => p !== port);
      const m = await masters();
      if (m.some((n) => n.port === port) || m.reduce((sum, n) => sum + n.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0) !== 16384) return false;
      for (const p of live) if (!(await command(p, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
      return true;
    }),
    stop: async () => {
      process.off('exit', reap);
      await Promise.all([...children.values()].map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Channel names whose keys live on each of the cluster's masters: `count` per master, named
 * `<prefix><n>`, so a test can spread its channels across every shard.
 */
export async function channelsPerMaster(cluster: RedisCluster, prefix: string, count: number): Promise<Map<number, string[]>> {
  const masters = await cluster.masters();
  const out = new Map<number, string[]>(masters.map((m) => [m.port, []]));
  for (let n = 0; [...out.values()].some((list) => list.length < count); n++) {
    const name = `${prefix}${n}`;
    const slot = keySlot(name);
    const owner = masters.find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
    const list = owner === undefined ? undefined : out.get(owner.port);
    if (list !== undefined && list.length < count) list.push(name);
  }
  return out;
}
