/**
 * `npm run bench -- plugins`: what authentication and rate limiting cost per request. The same
 * upstream is measured directly, through Sluice without plugins, and through Sluice with
 * key-auth (on the service) and rate-limiting (one instance per route, limits high enough
 * never to refuse), all in one run; key-auth alone and rate-limiting alone (which then counts
 * per client IP, its fallback) show how the cost splits. The config has 100 routes and 100 consumers with a key
 * each; every request picks the next route and another consumer's key (a wrk Lua script), so
 * the router cache, the key index and the counters see 100 × 100 combinations, not one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { printTable, type LoadResult } from './lib/load.ts';
import { hasCommand, spawnUntil, type Running } from './lib/processes.ts';
import { startSluice } from './proxy.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUTES = 100;
const CONSUMERS = 100;
const root = fileURLToPath(new URL('..', import.meta.url));

/** Request i goes to route i mod 100 with the key of consumer (7·i) mod 100. */
const requestAt = (i: number) => ({ path: `/r${i % ROUTES}/item`, key: `key-${(i * 7) % CONSUMERS}` });

interface Plugins {
  readonly keyAuth: boolean;
  readonly rateLimiting: boolean;
}

function sluiceConfig(upstreamUrl: string, plugins: Plugins): string {
  const lines = ['_format_version: "3.0"', 'services:', '  - name: bench', `    url: ${upstreamUrl}`];
  if (plugins.keyAuth) lines.push('    plugins: [{ name: key-auth }]');
  lines.push('    routes:');
  for (let r = 0; r < ROUTES; r++) {
    lines.push(`      - name: r${r}`, `        paths: [/r${r}]`);
    if (plugins.rateLimiting) lines.push('        plugins: [{ name: rate-limiting, config: { second: 1000000, hour: 1000000000, limit_by: consumer } }]');
  }
  // Consumers in every variant, so the configs differ only by their plugins.
  lines.push('consumers:');
  for (let c = 0; c < CONSUMERS; c++) lines.push(`  - username: c${c}`, `    keyauth_credentials: [{ key: key-${c} }]`);
  return `${lines.join('\n')}\n`;
}

async function startUpstream(): Promise<{ running: Running; port: number }> {
  const { running, value } = await spawnUntil(process.execPath, [join(root, 'bench/lib/upstream.mjs')], (line) => {
    try {
      return (JSON.parse(line) as { port?: number }).port;
    } catch {
      return undefined;
    }
  });
  return { running, port: value };
}

/** wrk with a Lua script cycling through the routes and keys. */
function runWrk(origin: string, seconds: number): LoadResult {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-plugins-'));
  const script = join(dir, 'rotate.lua');
  const pairs = Array.from({ length: ROUTES * CONSUMERS }, (_, i) => requestAt(i));
  writeFileSync(
    script,
    `local paths = {${pairs.map((p) => `"${p.path}"`).join(',')}}
local keys = {${pairs.map((p) => `"${p.key}"`).join(',')}}
local n = #paths
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("GET", paths[i], { ["apikey"] = keys[i] })
end
`,
  );
  const result = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, origin], { encoding: 'utf8' });
  const text = result.stdout;
  const percentile = (label: string) => {
    const match = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text);
    if (!match) return NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0) + Number(/Socket errors:.*?timeout (\d+)/.exec(text)?.[1] ?? 0);
  return { requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN), p50Ms: percentile('50%'), p99Ms: percentile('99%'), errors };
}

/** The same rotation with undici when wrk is not installed (it shares Node's CPU budget). */
async function runUndici(origin: string, seconds: number): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const { path, key } = requestAt(next++);
      const started = performance.now();
      try {
        const res = await pool.request({ path, method: 'GET', headers: { apikey: key } });
        await res.body.dump();
        if (res.statusCode >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requestsPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}

async function measure(origin: string): Promise<LoadResult> {
  const load = (seconds: number) => (hasCommand('wrk') ? Promise.resolve(runWrk(origin, seconds)) : runUndici(origin, seconds));
  await load(1); // warm-up (JIT, pools, router cache)
  return load(SECONDS);
}

export async function run(): Promise<void> {
  const upstream = await startUpstream();
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const cleanups: Running[] = [upstream.running];
  try {
    const results: [string, LoadResult][] = [['direct to upstream', await measure(upstreamUrl)]];
    const variants: [string, Plugins][] = [
      ['sluice, 100 routes, no plugins', { keyAuth: false, rateLimiting: false }],
      ['sluice, key-auth + rate-limiting', { keyAuth: true, rateLimiting: true }],
      ['sluice, key-auth only', { keyAuth: true, rateLimiting: false }],
      ['sluice, rate-limiting only (by IP)', { keyAuth: false, rateLimiting: true }],
    ];
    for (const [name, plugins] of variants) {
      const sluice = await startSluice(sluiceConfig(upstreamUrl, plugins));
      cleanups.push(sluice.running);
      results.push([name, await measure(`http://${sluice.proxy}`)]);
      await sluice.running.stop();
    }
    const direct = results[0]![1].requestsPerSecond;
    const bare = results[1]![1].requestsPerSecond;
    console.log(
      `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${CONNECTIONS} connections, ${SECONDS}s per row, ${ROUTES} routes × ${CONSUMERS} consumers rotated, load by ${hasCommand('wrk') ? 'wrk' : 'undici'}\n`,
    );
    printTable(
      ['target', 'requests/s', 'p50 ms', 'p99 ms', 'errors', '× direct', '× no plugins'],
      results.map(([name, r]) => [name, Math.round(r.requestsPerSecond), r.p50Ms, r.p99Ms, r.errors, r.requestsPerSecond / direct, r.requestsPerSecond / bare]),
    );
  } finally {
    for (const running of cleanups) await running.stop();
  }
}
