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
import { measureInterleaved, printTable, type LoadResult, type Rotation, type Target } from './lib/load.ts';
import { hasCommand, startBenchUpstream, type Running } from './lib/processes.ts';
import { startSluice } from './proxy.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUTES = 100;
const CONSUMERS = 100;

export interface Plugins {
  readonly keyAuth: boolean;
  readonly rateLimiting: boolean;
}

export function sluiceConfig(upstreamUrl: string, plugins: Plugins): string {
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
export const ROTATION: Rotation = {
  count: ROUTES * CONSUMERS,
  at: (i) => ({ path: `/r${i % ROUTES}/item`, headers: { apikey: `key-${(i * 7) % CONSUMERS}` } }),
};

/** The Sluice configs measured, the no-plugin baseline first (`plugins-cpu` relies on that). */
export const VARIANTS: readonly (readonly [string, Plugins])[] = [
  ['sluice, 100 routes, no plugins', { keyAuth: false, rateLimiting: false }],
  ['sluice, key-auth + rate-limiting', { keyAuth: true, rateLimiting: true }],
  ['sluice, key-auth only', { keyAuth: true, rateLimiting: false }],
  ['sluice, rate-limiting only (by IP)', { keyAuth: false, rateLimiting: true }],
];

export async function run(): Promise<void> {
  const upstream = await startBenchUpstream();
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const cleanups: Running[] = [upstream.running];
  try {
    const targets: Target[] = [{ name: 'direct to upstream', url: upstreamUrl }];
    for (const [name, plugins] of VARIANTS) {
      const sluice = await startSluice(sluiceConfig(upstreamUrl, plugins));
      cleanups.push(sluice.running);
      targets.push({ name, url: `http://${sluice.proxy}` });
    }
    const results = await measureInterleaved(targets, { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, rotation: ROTATION });
    const rps = (name: string) => results.get(name)?.requestsPerSecond ?? NaN;
    const direct = rps('direct to upstream');
    const bare = rps('sluice, 100 routes, no plugins');
    console.log(
      `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${CONNECTIONS} connections, median of ${ROUNDS} alternating ${SECONDS}s rounds, ${ROUTES} routes × ${CONSUMERS} consumers rotated, load by ${hasCommand('wrk') ? 'wrk' : 'undici'}\n`,
    );
    printTable(
      ['target', 'requests/s', 'p50 ms', 'p99 ms', 'errors', '× direct', '× no plugins'],
      targets.map(({ name }) => {
        const r = results.get(name) as LoadResult;
        return [name, Math.round(r.requestsPerSecond), r.p50Ms, r.p99Ms, r.errors, r.requestsPerSecond / direct, r.requestsPerSecond / bare];
      }),
    );
  } finally {
    for (const running of cleanups) await running.stop();
  }
}
