/**
 * `npm run bench -- fanout`: one channel, N idle EventSource subscribers, P publishes (issue 4).
 * Measured for Sluice and, when installed, nginx + nchan (one worker) in the same run:
 *
 * - connect s: time until all N subscribers have their `200` head;
 * - fan-out p50/p99 ms: publish request sent → the last of the N subscribers has read the
 *   message's `data:` line, over P publishes spaced so that each one completes first;
 * - deliveries/s: N × P / the sum of those fan-out times;
 * - RSS/subscriber: the server process's VmRSS after connecting (and 1 s idle) minus before,
 *   over N (nginx: the worker process);
 * - CPU µs/delivery: the server process's CPU time (all threads, ns from
 *   `/proc/<pid>/task/<tid>/schedstat`, falling back to utime+stime ticks of `/proc/<pid>/stat`)
 *   over the P publishes, over N × P.
 *
 * The subscribers are `bench/lib/sse-clients.mjs` in a child process (raw `net` sockets, one
 * shared read buffer), so the parent (publisher, clock) and the clients do not share an event
 * loop. Each (server, N) pair gets fresh server and client processes.
 *
 * Sluice runs once per entry of FANOUT_WORKERS (default `1,2`): with `workers > 1` the CPU and
 * RSS figures are summed over the primary and every worker process.
 *
 * Env: FANOUT_SUBSCRIBERS (default `1000,10000`), FANOUT_PUBLISHES (default 30, after 2 warm-up
 * publishes that are not counted), FANOUT_WORKERS (default `1,2`), FANOUT_CPU_PROF=<dir> runs
 * Sluice with `--cpu-prof` there, FANOUT_STRACE=<dir> writes `strace -c` of each server over the
 * measured publishes there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { startSluice } from './proxy.ts';
import { freePort, hasCommand, startNginx, type Running } from './lib/processes.ts';
import { printTable } from './lib/load.ts';
import { childrenOf, cpuNs, nodeChildrenOf, rssBytes, sum, sumTicks } from './lib/proc.ts';
import { Clients } from './lib/sse-subscribers.ts';

const SIZES = (process.env.FANOUT_SUBSCRIBERS ?? '1000,10000').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const WORKERS = (process.env.FANOUT_WORKERS ?? '1,2').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const PUBLISHES = Math.max(1, Number(process.env.FANOUT_PUBLISHES ?? 30));
const WARMUP_PUBLISHES = 2;
const SETTLE_MS = 1000;
const GAP_MS = 50;
const CPU_PROF_DIR = process.env.FANOUT_CPU_PROF;
/** `strace -c` of the server over the measured publishes, one summary file per row (slows the server: timing rows are off). */
const STRACE_DIR = process.env.FANOUT_STRACE;

function startStrace(server: Server, subscribers: number): { stop(): Promise<void> } {
  const out = `${STRACE_DIR}/${server.name.replace(/\W+/g, '-')}-${subscribers}.txt`;
  const child = spawn('strace', ['-c', '-f', ...server.pids.flatMap((pid) => ['-p', String(pid)]), '-o', out], { stdio: 'ignore' });
  return {
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    }),
  };
}
const NCHAN_MODULES = ['/usr/lib/nginx/modules/ngx_nchan_module.so', '/usr/share/nginx/modules/ngx_nchan_module.so'];
/** 100 bytes of payload per message, the same for both servers. */
const payload = (k: number) => `message ${k} `.padEnd(100, 'x');

interface Server {
  readonly name: string;
  /** The processes doing the work (nginx: the worker, not the master; Sluice: the primary and its workers). */
  readonly pids: readonly number[];
  readonly port: number;
  /** Publisher base: Sluice's internal listener, nchan's own server. */
  readonly pubPort: number;
  stop(): Promise<void>;
}

interface Result {
  readonly server: string;
  readonly subscribers: number;
  readonly connected: number;
  readonly connectS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstP50Ms: number;
  readonly deliveriesPerS: number;
  readonly rssKiBPerSub: number;
  readonly cpuUsPerDelivery: number;
  /** The subscriber process's CPU per delivery: how much of the budget the load generator took. */
  readonly clientCpuUsPerDelivery: number;
  /** Share of the server's CPU time spent in the kernel (socket writes), from stat ticks. */
  readonly kernelShare: number;
}

// ---------------------------------------------------------------------------------------------
// limits

function openFilesLimit(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const parse = (v: string | undefined) => (v === undefined || v === 'unlimited' ? Infinity : Number(v));
  return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Notes (never failures) when this machine cannot hold `largest` sockets per side. */
function checkLimits(largest: number): number {
  const needed = largest + 100;
  const { soft, hard } = openFilesLimit();
  let usable = largest;
  if (soft < needed) {
    usable = Math.max(0, soft - 100);
    console.log(
      `NOTE: \`ulimit -n\` is ${soft} (hard ${hard}); ${largest} subscribers need ≈ ${needed} descriptors in the client process and in the server.` +
        ` Raise it (\`ulimit -n ${Math.min(hard, 65536) >= needed ? Math.min(hard, 65536) : needed}\`${hard < needed ? ', and the hard limit in /etc/security/limits.conf' : ''}) and rerun; sizes above ${usable} are skipped.`,
    );
  }
  const range = readSysctl('/proc/sys/net/ipv4/ip_local_port_range')?.split(/\s+/).map(Number);
  if (range && range.length === 2 && (range[1] as number) - (range[0] as number) < needed) {
    console.log(`NOTE: net.ipv4.ip_local_port_range (${range.join('-')}) leaves fewer than ${needed} client ports to 127.0.0.1.`);
  }
  return usable;
}

// ---------------------------------------------------------------------------------------------
// the servers

async function startSluiceServer(workers: number): Promise<Server> {
  const internal = await freePort();
  const config = `_format_version: "3.0"
routes:
  - name: sub
    paths: ["~/sub/(?<id>[^/]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.id)"], transports: [eventsource] }
`;
  const nodeArgs = CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : [];
  // No access or stream lines, as nginx runs with `access_log off` below: like for like.
  const args = ['--internal-listen', `127.0.0.1:${internal}`, '--drain-timeout', '1', '--workers', String(workers), '--access-log', 'off'];
  const { running, proxy } = await startSluice(config, args, nodeArgs);
  const port = Number(proxy.split(':').pop());
  const primary = running.child.pid as number;
  const pids = workers > 1 ? [primary, ...nodeChildrenOf(primary)] : [primary];
  if (pids.length !== (workers > 1 ? workers + 1 : 1)) throw new Error(`expected ${workers} Sluice workers, found ${pids.length - 1}`);
  return { name: sluiceName(workers), pids, port, pubPort: internal, stop: () => running.stop() };
}

const sluiceName = (workers: number) => (workers > 1 ? `Sluice, ${workers} workers` : 'Sluice');

async function startNchanServer(module: string, subscribers: number): Promise<Server> {
  const port = await freePort();
  const running: Running = await startNginx(
    `server {
       listen 127.0.0.1:${port} backlog=4096;
       location ~ ^/pub/(.+)$ { nchan_publisher; nchan_channel_id $1; }
       location ~ ^/sub/(.+)$ { nchan_subscriber eventsource; nchan_channel_id $1; }
     }`,
    port,
    [module],
    Math.max(16384, subscribers + 1024),
  );
  const master = running.child.pid as number;
  const worker = childrenOf(master)[0];
  if (worker === undefined) throw new Error('nginx worker process not found');
  return {
    name: 'nchan',
    pids: [worker],
    port,
    pubPort: port,
    stop: async () => {
      running.child.kill('SIGTERM'); // fast shutdown: a graceful one would wait for open streams
      await running.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the measurement

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function http(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function subscriberCount(server: Server, channel: string): Promise<number> {
  const { status, body } = await http(server.pubPort, 'GET', `/pub/${channel}`, undefined, { accept: 'text/json' });
  if (status !== 200) return 0;
  return Number((JSON.parse(body) as { subscribers?: number }).subscribers ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

async function measure(server: Server, subscribers: number): Promise<Result> {
  const channel = `fanout-${subscribers}`;
  const clients = await Clients.start();
  try {
    await sleep(200);
    const rssBefore = sum(server.pids, rssBytes);
    const connected = await clients.connect(server.port, `/sub/${channel}`, subscribers);
    if (connected.failed > 0) console.log(`  ${server.name}: ${connected.failed} of ${subscribers} subscribers failed to connect (${connected.error ?? '?'})`);
    // Every subscriber counted by the server itself before the first publish.
    for (let i = 0; i < 100 && (await subscriberCount(server, channel)) < connected.ok; i++) await sleep(50);
    await sleep(SETTLE_MS);
    const rssAfter = sum(server.pids, rssBytes);

    let k = 0;
    const publish = async () => {
      k++;
      const delivered = clients.delivery(k);
      const sent = process.hrtime.bigint();
      const answer = await http(server.pubPort, 'POST', `/pub/${channel}`, payload(k), { 'content-type': 'text/plain' });
      if (answer.status >= 300) throw new Error(`${server.name}: publish answered ${answer.status} ${answer.body}`);
      const { firstNs, lastNs } = await delivered;
      await sleep(GAP_MS);
      return { lastMs: Number(lastNs - sent) / 1e6, firstMs: Number(firstNs - sent) / 1e6 };
    };
    for (let i = 0; i < WARMUP_PUBLISHES; i++) await publish();
    const strace = STRACE_DIR ? startStrace(server, subscribers) : undefined;
    const cpuBefore = sum(server.pids, cpuNs);
    const ticksBefore = sumTicks(server.pids);
    const clientCpuBefore = cpuNs(clients.child.pid as number);
    const times: { lastMs: number; firstMs: number }[] = [];
    for (let i = 0; i < PUBLISHES; i++) times.push(await publish());
    const cpuAfter = sum(server.pids, cpuNs);
    const ticksAfter = sumTicks(server.pids);
    const clientCpuAfter = cpuNs(clients.child.pid as number);
    await strace?.stop();
    if (clients.lost > 0) console.log(`  ${server.name}: ${clients.lost} subscribers were closed during the run`);

    const last = times.map((t) => t.lastMs).sort((a, b) => a - b);
    const first = times.map((t) => t.firstMs).sort((a, b) => a - b);
    const open = connected.ok - clients.lost;
    const deliveries = open * PUBLISHES;
    return {
      server: server.name,
      subscribers,
      connected: connected.ok,
      connectS: connected.ms / 1000,
      p50Ms: percentile(last, 0.5),
      p99Ms: percentile(last, 0.99),
      firstP50Ms: percentile(first, 0.5),
      deliveriesPerS: deliveries / (last.reduce((a, b) => a + b, 0) / 1000),
      rssKiBPerSub: (rssAfter - rssBefore) / 1024 / connected.ok,
      cpuUsPerDelivery: (cpuAfter - cpuBefore) / 1000 / deliveries,
      kernelShare: (ticksAfter.sys - ticksBefore.sys) / (ticksAfter.sys - ticksBefore.sys + ticksAfter.user - ticksBefore.user),
      clientCpuUsPerDelivery: (clientCpuAfter - clientCpuBefore) / 1000 / deliveries,
    };
  } finally {
    await clients.stop();
  }
}

function machineLine(): string {
  const nginx = hasCommand('nginx') ? /nginx\/(\S+)/.exec(spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr)?.[1] : undefined;
  return `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.versions.node}${nginx ? `, nginx ${nginx}` : ''}`;
}

export async function run(): Promise<void> {
  const started = performance.now();
  const usable = checkLimits(Math.max(...SIZES));
  const sizes = SIZES.filter((n) => n <= usable);
  const module = hasCommand('nginx') ? NCHAN_MODULES.find((p) => existsSync(p)) : undefined;
  if (module === undefined) console.log('(nginx + nchan not installed: `apt-get install nginx-light libnginx-mod-nchan` adds the nchan baseline)');

  const results: Result[] = [];
  for (const n of sizes) {
    const starters: (() => Promise<Server>)[] = WORKERS.map((w) => () => startSluiceServer(w));
    if (module !== undefined) starters.push(() => startNchanServer(module, n));
    for (const start of starters) {
      const server = await start();
      try {
        const result = await measure(server, n);
        results.push(result);
        console.log(
          `  ${result.server} × ${n}: connect ${result.connectS.toFixed(2)} s, fan-out p50 ${result.p50Ms.toFixed(1)} ms (first subscriber ${result.firstP50Ms.toFixed(1)} ms), ` +
            `${Math.round(result.rssKiBPerSub * 10) / 10} KiB/subscriber, ${result.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery (${Math.round(result.kernelShare * 100)}% in the kernel; subscriber process: ${result.clientCpuUsPerDelivery.toFixed(2)} µs)`,
        );
      } finally {
        await server.stop();
      }
    }
  }

  console.log(`\n${machineLine()}; ${PUBLISHES} publishes of 100 bytes per row (after ${WARMUP_PUBLISHES} warm-up), ${GAP_MS} ms apart once delivered; subscribers in one child process\n`);
  const rows: (string | number)[][] = [];
  const sluices = WORKERS.map(sluiceName);
  for (const n of sizes) {
    const nchan = results.find((r) => r.server === 'nchan' && r.subscribers === n);
    const mine = sluices.flatMap((name) => results.filter((r) => r.server === name && r.subscribers === n));
    for (const r of [...mine, nchan]) {
      if (r) rows.push([r.server, n.toLocaleString('en-US'), r.connectS, r.p50Ms, r.p99Ms, Math.round(r.deliveriesPerS), r.rssKiBPerSub, r.cpuUsPerDelivery]);
    }
    for (const sluice of nchan ? mine : []) {
      rows.push([
        `**${sluice.server} / nchan**`,
        n.toLocaleString('en-US'),
        sluice.connectS / (nchan as Result).connectS,
        sluice.p50Ms / (nchan as Result).p50Ms,
        sluice.p99Ms / (nchan as Result).p99Ms,
        sluice.deliveriesPerS / (nchan as Result).deliveriesPerS,
        sluice.rssKiBPerSub / (nchan as Result).rssKiBPerSub,
        sluice.cpuUsPerDelivery / (nchan as Result).cpuUsPerDelivery,
      ]);
    }
  }
  printTable(['server', 'subscribers', 'connect s', 'fan-out p50 ms', 'fan-out p99 ms', 'deliveries/s', 'RSS/subscriber KiB', 'CPU µs/delivery'], rows);

  for (const n of sizes) {
    const nchan = results.find((r) => r.server === 'nchan' && r.subscribers === n);
    if (!nchan) continue;
    for (const sluice of results.filter((r) => r.server !== 'nchan' && r.subscribers === n)) {
      const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)}× (target ≤ ${target}×: ${ratio <= target ? 'met' : 'NOT met'})`;
      console.log(
        `\n${sluice.server}, ${n.toLocaleString('en-US')} subscribers: fan-out p50 ${verdict(sluice.p50Ms / nchan.p50Ms, 0.8)}, CPU/delivery ${verdict(sluice.cpuUsPerDelivery / nchan.cpuUsPerDelivery, 1.0)}, ` +
          `memory/subscriber ${verdict(sluice.rssKiBPerSub / nchan.rssKiBPerSub, 0.8)}`,
      );
    }
  }
  console.log(`\n(fan-out bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
