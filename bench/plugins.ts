/**
 * `npm run bench -- plugins`: what authentication and rate limiting cost per request. The same
 * upstream is measured directly, through Sluice without plugins, and through Sluice with
 * key-auth (on the service) and rate-limiting (one instance per route, limits high enough
 * never to refuse), all in one run; key-auth alone and rate-limiting alone (which then counts
 * per client IP, its fallback) show how the cost splits. The config has 100 routes and 100 consumers with a key
 * each; every request picks the next route and another consumer's key (a wrk Lua script), so
 * the router cache, the key index and the counters see 100 × 100 combinations, not one.
 */
import { cpus } from 'node:os';
import { printTable, runLoad, type LoadResult, type Rotation } from './lib/load.ts';
import { hasCommand, startBenchUpstream, type Running } from './lib/processes.ts';
import { startSluice } from './proxy.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUTES = 100;
const CONSUMERS = 100;

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

/** Request i goes to route i mod 100 with the key of consumer (7·i) mod 100. */
const ROTATION: Rotation = {
  count: ROUTES * CONSUMERS,
  at: (i) => ({ path: `/r${i % ROUTES}/item`, headers: { apikey: `key-${(i * 7) % CONSUMERS}` } }),
};

async function measure(origin: string): Promise<LoadResult> {
  const load = (seconds: number) => runLoad({ url: origin, connections: CONNECTIONS, seconds, rotation: ROTATION });
  await load(1); // warm-up (JIT, pools, router cache)
  return load(SECONDS);
}

export async function run(): Promise<void> {
  const upstream = await startBenchUpstream();
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
