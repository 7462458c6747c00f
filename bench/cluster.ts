/**
 * `npm run bench -- cluster`: delivered messages per second and publish → deliver latency for
 * 1 process and N workers on the memory engine, and 1 node, 2 nodes and 1 node with N workers on
 * the redis engine, in one run, with ratios against the `memory, 1 process` row; and what each
 * publish costs Redis (issue 6).
 *
 * S EventSource subscribers (`bench/lib/sse-clients.mjs`, own process) on one channel, split
 * evenly over the nodes; M messages published to the nodes' internal listeners by P concurrent
 * keep-alive publishers (publisher i on node i mod nodes; with workers, their connections are
 * spread over the workers like any others). Per row:
 *
 * - delivered msgs/s: S × M / (first publish sent → every subscriber has message M);
 * - deliver p50/p99 ms: the k-th publish sent → every subscriber has its k-th message;
 * - gateway CPU µs/delivery: CPU time of every node's primary and workers over the run, / S × M;
 * - Redis round trips/publish: commands the nodes sent over the same stretch (MONITOR), / M;
 *   and in a second table, every command Redis ran (Lua scripts' included, `INFO
 *   commandstats`), the server's µs in them and the redis-server's CPU, per publish. Heartbeats
 *   that fall in the stretch are included: they are part of what a node costs Redis. MONITOR
 *   is on for the redis rows' timed stretch: Redis formats ≈ 20 monitor lines per publish, a
 *   small cost next to the fan-out, but one the redis-server CPU column includes.
 *
 * The redis rows run on a private `redis-server` started on a free port (so no other client's
 * commands are counted), else on `REDIS_URL` with a notice, else they are skipped with a notice.
 * Each row's nodes get a fresh `redis_namespace` (dropped afterwards on a shared Redis).
 *
 * Env: CLUSTER_WORKERS (memory rows: workers of the one node; default `1,2`), CLUSTER_REDIS_NODES
 * (redis rows of single-process nodes; default `1,2`), CLUSTER_REDIS_WORKERS (redis rows of one
 * node with N workers; default `2`, empty for none), CLUSTER_SUBSCRIBERS (default 2000),
 * CLUSTER_MESSAGES (default 200), CLUSTER_PUBLISHERS (default 4).
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { startSluice } from './proxy.ts';
import { printTable } from './lib/load.ts';
import { freePort, type Running } from './lib/processes.ts';
import { cpuNs, nodeChildrenOf, sum } from './lib/proc.ts';
import { Clients } from './lib/sse-subscribers.ts';
import { benchNamespace, benchRedis, dropNamespace, type BenchRedis } from './lib/bench-redis.ts';
import { RedisWatch, type Counts } from './lib/redis-work.ts';

const int = (name: string, fallback: number) => Math.max(1, Math.floor(Number(process.env[name] ?? fallback)) || fallback);
const list = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const WORKERS = list('CLUSTER_WORKERS', '1,2');
const REDIS_NODES = list('CLUSTER_REDIS_NODES', '1,2');
const REDIS_WORKERS = list('CLUSTER_REDIS_WORKERS', '2');
const SUBSCRIBERS = int('CLUSTER_SUBSCRIBERS', 2000);
const MESSAGES = int('CLUSTER_MESSAGES', 200);
const PUBLISHERS = int('CLUSTER_PUBLISHERS', 4);
const CONFIG = `_format_version: "3.0"
routes:
  - name: sub
    paths: ["~/sub/(?<id>[^/]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.id)"], transports: [eventsource], max_queued_messages: ${MESSAGES + 10} }
`;

/** One row: `nodes` gateway processes (each with `workers` workers) on one engine. */
interface Setup {
  readonly engine: 'memory' | 'redis';
  readonly nodes: number;
  readonly workers: number;
}

interface Row {
  readonly setup: Setup;
  readonly connected: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerDelivery: number;
  /** Redis rows only: commands sent and run over the timed stretch, and the redis-server's CPU. */
  readonly redis?: { readonly sent: Counts; readonly executed: Counts; readonly cpuNs: number | undefined };
}

const setupName = ({ engine, nodes, workers }: Setup): string =>
  `${engine}, ${nodes > 1 ? `${nodes} nodes` : workers > 1 ? `${workers} workers + primary` : '1 process'}`;

/** Publishes message k; resolves with the status (201: had subscribers, 202: none counted). */
function publish(agent: Agent, port: number, k: number): Promise<number> {
  const body = `message ${k} `.padEnd(100, 'x');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/pub/bench', agent, headers: { 'content-type': 'text/plain', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 || res.statusCode === 202 ? resolve(res.statusCode) : reject(new Error(`publish answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;

interface Node {
  readonly running: Running;
  readonly proxyPort: number;
  readonly internalPort: number;
}

async function startNode(setup: Setup, redisArgs: string[]): Promise<Node> {
  const internalPort = await freePort();
  const args = ['--internal-listen', `127.0.0.1:${internalPort}`, '--drain-timeout', '1', '--workers', String(setup.workers), '--engine', setup.engine, ...redisArgs];
  const { running, proxy } = await startSluice(CONFIG, args);
  return { running, internalPort, proxyPort: Number(proxy.split(':').pop()) };
}

/** The node processes' pids: each primary and, with workers, its worker children. */
const pidsOf = (nodes: readonly Node[], workers: number) =>
  nodes.flatMap(({ running }) => {
    const primary = running.child.pid as number;
    return workers > 1 ? [primary, ...nodeChildrenOf(primary)] : [primary];
  });

async function measure(setup: Setup, redis: BenchRedis | undefined): Promise<Row> {
  const namespace = benchNamespace();
  const redisArgs = setup.engine === 'redis' && redis?.url ? ['--redis-url', redis.url, '--redis-namespace', namespace] : [];
  const nodes: Node[] = [];
  const clients = await Clients.start();
  const agent = new Agent({ keepAlive: true, maxSockets: PUBLISHERS });
  let watch: RedisWatch | undefined;
  try {
    for (let i = 0; i < setup.nodes; i++) nodes.push(await startNode(setup, redisArgs));
    const pids = pidsOf(nodes, setup.workers);
    // Subscribers split evenly over the nodes. The subscriber process counts connections over
    // all its connect calls, so the last answer's `ok` is the total.
    let connected = { ok: 0, failed: 0, error: undefined as string | undefined };
    for (const [i, node] of nodes.entries()) {
      const count = Math.floor(SUBSCRIBERS / nodes.length) + (i < SUBSCRIBERS % nodes.length ? 1 : 0);
      const answer = await clients.connect(node.proxyPort, '/sub/bench', count);
      connected = { ok: answer.ok, failed: connected.failed + answer.failed, error: connected.error ?? answer.error };
    }
    if (connected.failed > 0) console.log(`  ${connected.failed} subscribers failed to connect (${connected.error ?? '?'})`);
    const internal = (publisher: number) => (nodes[publisher % nodes.length] as Node).internalPort;
    await publish(agent, internal(0), 0); // warm-up: message 1 for every subscriber
    await clients.delivery(1);
    // Every wait starts now, so the last one must allow for the whole run on a busy machine
    // (at no fewer than 5,000 deliveries/s).
    const timeoutMs = 30_000 + (connected.ok * MESSAGES) / 5;
    const delivered = Array.from({ length: MESSAGES }, (_, i) => clients.delivery(i + 2, timeoutMs));
    const sent: bigint[] = [];
    let unseen = 0; // 202: the node counted no subscriber on the channel
    watch = redisArgs.length > 0 && redis?.url ? await RedisWatch.start(redis.url, redis.kind === 'shared' ? namespace : undefined) : undefined;
    const redisCpuBefore = redis?.pid !== undefined ? cpuNs(redis.pid) : 0;
    const cpuBefore = sum(pids, cpuNs);
    const start = process.hrtime.bigint();
    let next = 0;
    const publisher = async (p: number) => {
      while (next < MESSAGES) {
        const k = ++next;
        sent[k - 1] = process.hrtime.bigint();
        if ((await publish(agent, internal(p), k)) === 202) unseen++;
      }
    };
    await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publisher(p)));
    const times = await Promise.all(delivered);
    const cpuAfter = sum(pids, cpuNs);
    const redisCpu = redis?.pid !== undefined ? cpuNs(redis.pid) - redisCpuBefore : undefined;
    const work = await watch?.stop();
    watch = undefined;
    if (unseen > 0) console.log(`  ${unseen} of ${MESSAGES} publishes answered 202 (no subscribers counted) although every subscriber was connected`);
    const end = times.at(-1)?.lastNs ?? start;
    const latencies = times.map((t, i) => Number(t.lastNs - (sent[i] as bigint)) / 1e6).sort((a, b) => a - b);
    const deliveries = connected.ok * MESSAGES;
    return {
      setup,
      connected: connected.ok,
      perSecond: deliveries / (Number(end - start) / 1e9),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      cpuUsPerDelivery: (cpuAfter - cpuBefore) / 1000 / deliveries,
      ...(work ? { redis: { ...work, cpuNs: redisCpu } } : {}),
    };
  } finally {
    agent.destroy();
    watch?.close();
    await clients.stop();
    for (const node of nodes) await node.running.stop();
    if (redis?.kind === 'shared' && redisArgs.length > 0 && redis.url) await dropNamespace(redis.url, namespace);
  }
}

function setups(redisUsable: boolean): Setup[] {
  const memory = WORKERS.map((workers): Setup => ({ engine: 'memory', nodes: 1, workers }));
  if (!redisUsable) return memory;
  return [
    ...memory,
    ...REDIS_NODES.map((nodes): Setup => ({ engine: 'redis', nodes, workers: 1 })),
    ...REDIS_WORKERS.filter((w) => w > 1).map((workers): Setup => ({ engine: 'redis', nodes: 1, workers })),
  ];
}

const perPublish = (n: number) => n / MESSAGES;
const total = (counts: Counts, field: 'calls' | 'usec' = 'calls') => counts.reduce((a, [, c]) => a + c[field], 0);
const byName = (counts: Counts, top = Infinity) => {
  const shown = counts.slice(0, top).map(([name, c]) => `${name} ${perPublish(c.calls).toFixed(2)}`);
  return (counts.length > top ? [...shown, `… ${counts.length - top} more`] : shown).join(', ') || 'none';
};

/** Round trips and Redis's work per publish, one line per redis row. */
function printRedisWork(rows: readonly Row[], shared: boolean): void {
  if (!rows.some((r) => r.redis)) return;
  console.log(
    `\nRedis per publish over the timed stretch (/ ${MESSAGES} publishes; heartbeats in the stretch included). Sent: commands from the nodes (MONITOR), ` +
      'i.e. round trips; run: every command Redis executed, those inside the Lua scripts included (INFO commandstats)' +
      `${shared ? '; on the shared Redis, sent counts only commands naming the row\'s namespace, and run counts everyone\'s commands' : ''}.\n`,
  );
  printTable(
    ['engine, processes', 'round trips/publish', 'sent, by command', 'commands run/publish', 'most run', 'Redis µs in commands/publish', 'redis-server CPU µs/publish'],
    rows.flatMap(({ setup, redis }) => {
      if (!redis) return [];
      const cpu = redis.cpuNs === undefined ? 'n/a (shared Redis)' : perPublish(redis.cpuNs / 1000);
      return [[setupName(setup), perPublish(total(redis.sent)), byName(redis.sent), perPublish(total(redis.executed)), byName(redis.executed, 6), perPublish(total(redis.executed, 'usec')), cpu]];
    }),
  );
}

export async function run(): Promise<void> {
  const wantsRedis = REDIS_NODES.length + REDIS_WORKERS.length > 0;
  const redis = wantsRedis ? await benchRedis() : undefined;
  if (redis?.notice) console.log(`  (${redis.notice})`);
  const rows: Row[] = [];
  try {
    for (const setup of setups(redis?.url !== undefined)) {
      const row = await measure(setup, redis);
      rows.push(row);
      const trips = row.redis ? `, ${perPublish(total(row.redis.sent)).toFixed(2)} Redis round trips/publish` : '';
      console.log(`  ${setupName(setup)}: ${Math.round(row.perSecond)} delivered msgs/s, p99 ${row.p99Ms.toFixed(1)} ms, ${row.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery${trips}`);
    }
  } finally {
    await redis?.stop();
  }
  const base = rows.find((r) => r.setup.engine === 'memory' && r.setup.nodes === 1 && r.setup.workers === 1) ?? rows[0];
  const baseName = base ? setupName(base.setup) : 'first row';
  const where = redis?.kind === 'private' ? 'a private redis-server' : redis?.kind === 'shared' ? `the shared Redis at ${redis.url}` : 'none';
  console.log(
    `\n${cpus().length} CPUs; ${SUBSCRIBERS} EventSource subscribers on one channel (split evenly over the nodes), ${MESSAGES} messages of 100 bytes by ` +
      `${PUBLISHERS} concurrent publishers (spread over the nodes); gateway CPU summed over every node's primary and workers; Redis: ${where}\n`,
  );
  printTable(
    ['engine, processes', 'subscribers', 'delivered msgs/s', 'deliver p50 ms', 'deliver p99 ms', 'gateway CPU µs/delivery', 'Redis round trips/publish', `× ${baseName} msgs/s`],
    rows.map((r) => [
      setupName(r.setup), r.connected, Math.round(r.perSecond), r.p50Ms, r.p99Ms, r.cpuUsPerDelivery,
      r.redis ? perPublish(total(r.redis.sent)) : '',
      base ? r.perSecond / base.perSecond : NaN,
    ]),
  );
  printRedisWork(rows, redis?.kind === 'shared');
}
