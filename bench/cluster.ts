/**
 * `npm run bench -- cluster`: delivered messages per second and publish → deliver latency with
 * 1 worker vs N workers (memory engine; issue 6's Redis rows come with the Redis engine).
 *
 * S EventSource subscribers (`bench/lib/sse-clients.mjs`, own process) on one channel; M
 * messages published to the internal listener by P concurrent keep-alive publishers (so
 * publishing is spread over the workers too). Per row:
 *
 * - delivered msgs/s: S × M / (first publish sent → every subscriber has message M);
 * - deliver p50/p99 ms: the k-th publish sent → every subscriber has its k-th message;
 * - CPU µs/delivery: CPU time of the primary and every worker over the run, over S × M.
 *
 * Env: CLUSTER_WORKERS (default `1,2`), CLUSTER_SUBSCRIBERS (default 2000), CLUSTER_MESSAGES
 * (default 200), CLUSTER_PUBLISHERS (default 4).
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { startSluice } from './proxy.ts';
import { printTable } from './lib/load.ts';
import { freePort } from './lib/processes.ts';
import { cpuNs, nodeChildrenOf, sum } from './lib/proc.ts';
import { Clients } from './lib/sse-subscribers.ts';

const int = (name: string, fallback: number) => Math.max(1, Math.floor(Number(process.env[name] ?? fallback)) || fallback);
const WORKERS = (process.env.CLUSTER_WORKERS ?? '1,2').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
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

interface Row {
  readonly workers: number;
  readonly connected: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerDelivery: number;
}

function publish(agent: Agent, port: number, k: number): Promise<void> {
  const body = `message ${k} `.padEnd(100, 'x');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/pub/bench', agent, headers: { 'content-type': 'text/plain', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`publish answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;

async function measure(workers: number): Promise<Row> {
  const internal = await freePort();
  const { running, proxy } = await startSluice(CONFIG, ['--internal-listen', `127.0.0.1:${internal}`, '--drain-timeout', '1', '--workers', String(workers)]);
  const primary = running.child.pid as number;
  const pids = workers > 1 ? [primary, ...nodeChildrenOf(primary)] : [primary];
  const clients = await Clients.start();
  const agent = new Agent({ keepAlive: true, maxSockets: PUBLISHERS });
  try {
    const connected = await clients.connect(Number(proxy.split(':').pop()), '/sub/bench', SUBSCRIBERS);
    if (connected.failed > 0) console.log(`  ${connected.failed} subscribers failed to connect (${connected.error ?? '?'})`);
    await publish(agent, internal, 0); // warm-up: message 1 for every subscriber
    await clients.delivery(1);
    const delivered = Array.from({ length: MESSAGES }, (_, i) => clients.delivery(i + 2));
    const sent: bigint[] = [];
    const cpuBefore = sum(pids, cpuNs);
    const start = process.hrtime.bigint();
    let next = 0;
    const publisher = async () => {
      while (next < MESSAGES) {
        const k = ++next;
        sent[k - 1] = process.hrtime.bigint();
        await publish(agent, internal, k);
      }
    };
    await Promise.all(Array.from({ length: PUBLISHERS }, publisher));
    const times = await Promise.all(delivered);
    const cpuAfter = sum(pids, cpuNs);
    const end = times.at(-1)?.lastNs ?? start;
    const latencies = times.map((t, i) => Number(t.lastNs - (sent[i] as bigint)) / 1e6).sort((a, b) => a - b);
    const deliveries = connected.ok * MESSAGES;
    return {
      workers,
      connected: connected.ok,
      perSecond: deliveries / (Number(end - start) / 1e9),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      cpuUsPerDelivery: (cpuAfter - cpuBefore) / 1000 / deliveries,
    };
  } finally {
    agent.destroy();
    await clients.stop();
    await running.stop();
  }
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const workers of WORKERS) {
    const row = await measure(workers);
    rows.push(row);
    console.log(`  ${workers} worker(s): ${Math.round(row.perSecond)} delivered msgs/s, p99 ${row.p99Ms.toFixed(1)} ms, ${row.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery`);
  }
  const base = rows[0];
  console.log(`\n${cpus().length} CPUs; ${SUBSCRIBERS} EventSource subscribers on one channel, ${MESSAGES} messages of 100 bytes by ${PUBLISHERS} concurrent publishers; CPU summed over the primary and the workers\n`);
  printTable(
    ['engine, processes', 'subscribers', 'delivered msgs/s', 'deliver p50 ms', 'deliver p99 ms', 'CPU µs/delivery', '× 1st row msgs/s'],
    rows.map((r) => [
      `memory, ${r.workers === 1 ? '1 process' : `${r.workers} workers + primary`}`, r.connected, Math.round(r.perSecond), r.p50Ms, r.p99Ms, r.cpuUsPerDelivery,
      base ? r.perSecond / base.perSecond : NaN,
    ]),
  );
}
