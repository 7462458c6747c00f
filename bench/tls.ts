/**
 * `npm run bench -- tls`: what TLS and HTTP/2 cost, against plain HTTP, in one run and one
 * gateway process (a plain listener and an `ssl http2` one, same config):
 *
 * - proxy requests/s and p50/p99 (no plugins, tiny upstream answer): plain HTTP/1.1 and TLS
 *   HTTP/1.1 with wrk (`-c BENCH_CONNECTIONS`), TLS h2 with a node:http2 load loop
 *   (`TLS_H2_SESSIONS` sessions × `TLS_H2_STREAMS` streams in flight); alternating rounds,
 *   median kept (the h2 loop runs in this process, so it shares the CPU budget with the parent:
 *   wrk does not);
 * - fan-out: `TLS_FANOUT_SUBSCRIBERS` EventSource subscribers of one channel, publish → the
 *   last subscriber has read the message, p50/p99 over `TLS_FANOUT_PUBLISHES` publishes:
 *   plain and TLS HTTP/1.1 (a connection per subscriber), TLS h2 (100 streams per connection).
 *
 * Ratios are to plain HTTP. Env: BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
 * TLS_H2_SESSIONS (2), TLS_H2_STREAMS (25), TLS_FANOUT_SUBSCRIBERS (1000), TLS_FANOUT_PUBLISHES (20).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { testPki } from '../test/helpers/tls.ts';
import { hasCommand, spawnUntil, startBenchUpstream, type Running } from './lib/processes.ts';
import { printTable, runLoad, type LoadResult } from './lib/load.ts';
import { h2Load, subscribe, type Transport } from './lib/tls-clients.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const H2_SESSIONS = Number(process.env.TLS_H2_SESSIONS ?? 2);
const H2_STREAMS = Number(process.env.TLS_H2_STREAMS ?? 25);
const SUBSCRIBERS = Number(process.env.TLS_FANOUT_SUBSCRIBERS ?? 1000);
const PUBLISHES = Math.max(1, Number(process.env.TLS_FANOUT_PUBLISHES ?? 20));
const root = fileURLToPath(new URL('..', import.meta.url));

const ROWS: readonly { name: string; transport: Transport }[] = [
  { name: 'plain HTTP/1.1', transport: 'http' },
  { name: 'TLS HTTP/1.1', transport: 'https' },
  { name: 'TLS h2', transport: 'h2' },
];

interface Listeners {
  readonly plain: string;
  readonly tls: string;
  readonly internal: string;
}

async function startTlsGateway(config: string, cert: string, key: string): Promise<{ running: Running; listeners: Listeners }> {
  const { running, value } = await spawnUntil(process.execPath, ['--import', 'tsx', join(root, 'bench/lib/tls-gateway.ts'), config, cert, key], (line) => {
    try {
      const entry = JSON.parse(line) as { event?: string; listeners?: { proxy: string[]; internal: string[] } };
      if (entry.event !== 'listening' || !entry.listeners) return undefined;
      const [plain = '', tls = ''] = entry.listeners.proxy;
      return { plain, tls, internal: entry.listeners.internal[0] ?? '' };
    } catch {
      return undefined;
    }
  });
  return { running, listeners: value };
}

const median = (values: readonly LoadResult[]) => [...values].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(values.length / 2)] as LoadResult;

async function proxyRound(transport: Transport, listeners: Listeners, ca: string, seconds: number): Promise<LoadResult> {
  if (transport === 'h2') return h2Load({ origin: `https://${listeners.tls}`, ca, path: '/', sessions: H2_SESSIONS, streamsPerSession: H2_STREAMS, seconds });
  const url = transport === 'https' ? `https://${listeners.tls}/` : `http://${listeners.plain}/`;
  return runLoad({ url, connections: CONNECTIONS, seconds });
}

/** Publish → every subscriber has the message, in ms, per publish. */
async function fanOut(transport: Transport, listeners: Listeners, ca: string): Promise<number[]> {
  const origin = transport === 'http' ? `http://${listeners.plain}` : `https://${listeners.tls}`;
  const channel = `fan-${transport}`;
  const subscribers = await subscribe(transport, origin, `/sub/${channel}`, SUBSCRIBERS, ca);
  const times: number[] = [];
  try {
    for (let k = 1; k <= PUBLISHES; k++) {
      const started = performance.now();
      const res = await request(`http://${listeners.internal}/pub/${channel}`, { method: 'POST', body: `message ${k}` });
      await res.body.dump();
      await subscribers.reached(k);
      times.push(performance.now() - started);
    }
  } finally {
    subscribers.close();
  }
  return times.sort((a, b) => a - b);
}

export async function run(): Promise<void> {
  const wrk = hasCommand('wrk');
  const rows = wrk ? ROWS : ROWS.filter((row) => row.transport !== 'https');
  if (!wrk) console.log('(wrk not installed: the TLS HTTP/1.1 proxy row needs it; plain HTTP is loaded by undici)');
  const pki = testPki();
  const pem = pki.server(['localhost', '127.0.0.1']);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-tls-'));
  const cleanups: Running[] = [];
  try {
    writeFileSync(join(dir, 'cert.pem'), pem.cert);
    writeFileSync(join(dir, 'key.pem'), pem.key, { mode: 0o600 });
    const upstream = await startBenchUpstream();
    cleanups.push(upstream.running);
    writeFileSync(join(dir, 'kong.yml'), `_format_version: "3.0"
services:
  - name: bench
    url: http://127.0.0.1:${upstream.port}
    routes: [{ name: bench, paths: [/] }]
routes:
  - name: sub
    paths: ["~/sub/(?<ch>[a-z0-9-]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)"], transports: [eventsource] } }]
`);
    const gateway = await startTlsGateway(join(dir, 'kong.yml'), join(dir, 'cert.pem'), join(dir, 'key.pem'));
    cleanups.push(gateway.running);
    const ca = pki.ca.cert;

    const rounds = new Map<Transport, LoadResult[]>(rows.map((row) => [row.transport, []]));
    for (const row of rows) await proxyRound(row.transport, gateway.listeners, ca, 1); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const row of rows) rounds.get(row.transport)?.push(await proxyRound(row.transport, gateway.listeners, ca, SECONDS));
    }
    const proxy = new Map([...rounds].map(([transport, results]) => [transport, median(results)]));
    const plainRps = proxy.get('http')?.requestsPerSecond ?? NaN;
    console.log(`${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); proxy: median of ${ROUNDS} alternating ${SECONDS}s rounds, h1 by ${wrk ? 'wrk' : 'undici'} with ${CONNECTIONS} connections, h2 by node:http2 with ${H2_SESSIONS}×${H2_STREAMS} streams\n`);
    printTable(
      ['proxy', 'requests/s', 'p50 ms', 'p99 ms', 'errors', '× plain'],
      rows.map(({ name, transport }) => {
        const r = proxy.get(transport) as LoadResult;
        return [name, Math.round(r.requestsPerSecond), r.p50Ms, r.p99Ms, r.errors, r.requestsPerSecond / plainRps];
      }),
    );

    const fan = new Map<Transport, number[]>();
    for (const row of ROWS) fan.set(row.transport, await fanOut(row.transport, gateway.listeners, ca));
    const at = (times: readonly number[], q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
    const plainP50 = at(fan.get('http') ?? [], 0.5);
    console.log(`\nfan-out: ${SUBSCRIBERS} EventSource subscribers, ${PUBLISHES} publishes, publish → last subscriber read it\n`);
    printTable(
      ['fan-out', 'connections', 'p50 ms', 'p99 ms', '× plain (p50)'],
      ROWS.map(({ name, transport }) => {
        const times = fan.get(transport) ?? [];
        const connections = transport === 'h2' ? Math.ceil(SUBSCRIBERS / 100) : SUBSCRIBERS;
        return [name, connections, at(times, 0.5), at(times, 0.99), at(times, 0.5) / plainP50];
      }),
    );
  } finally {
    for (const running of cleanups) await running.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
