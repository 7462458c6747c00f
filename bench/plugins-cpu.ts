/**
 * `npm run bench -- plugins-cpu`: the plugin cost as CPU time of the gateway per request, which
 * stays meaningful on a machine shared with other work (requests/s do not). The configs and the
 * route/key rotation are `plugins`' (100 routes × 100 consumers); each Sluice gets the same load
 * (wrk, fixed connections, `BENCH_SECONDS` per round) in alternating rounds, and its CPU time
 * (all threads, from /proc) over the round is divided by the requests wrk completed. On a
 * saturated gateway, `µs per request (no plugins) / µs per request (variant)` approximates the
 * throughput ratio `plugins` reports.
 *
 * `BENCH_CPU_PROF=dir` also starts every Sluice under `node --cpu-prof --cpu-prof-dir=dir/<n>`,
 * for a look at where the time goes (profiles are written when the benchmark stops them).
 *
 * @example
 *   BENCH_ROUNDS=5 BENCH_SECONDS=4 npm run bench -- plugins-cpu
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { printTable, wrkRotationScript } from './lib/load.ts';
import { cpuNs } from './lib/proc.ts';
import { hasCommand, startBenchUpstream, type Running } from './lib/processes.ts';
import { ROTATION, VARIANTS, sluiceConfig } from './plugins.ts';
import { startSluice } from './proxy.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

interface Round {
  readonly requests: number;
  readonly errors: number;
  readonly cpuNs: number;
}

/** One wrk round against `url`, with the gateway's CPU time over it. */
function measureRound(url: string, pid: number, script: string, seconds: number): Round {
  const before = cpuNs(pid);
  const result = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, url], { encoding: 'utf8' });
  const used = cpuNs(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(result.stdout)?.[1] ?? NaN);
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(result.stdout)?.[1] ?? 0);
  return { requests, errors, cpuNs: used };
}

export async function run(): Promise<void> {
  if (!hasCommand('wrk')) throw new Error('plugins-cpu needs wrk (apt-get install wrk)');
  const upstream = await startBenchUpstream();
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const cleanups: Running[] = [upstream.running];
  try {
    const targets: { name: string; url: string; pid: number }[] = [];
    for (const [i, [name, plugins]] of VARIANTS.entries()) {
      const nodeArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, String(i))}`] : [];
      if (PROFILE_DIR) mkdirSync(join(PROFILE_DIR, String(i)), { recursive: true });
      const sluice = await startSluice(sluiceConfig(upstreamUrl, plugins), ['--access-log', 'off'], nodeArgs);
      cleanups.push(sluice.running);
      targets.push({ name, url: `http://${sluice.proxy}`, pid: sluice.running.child.pid as number });
    }
    const script = wrkRotationScript(ROTATION);
    // Warm-up (JIT, pools, caches); its requests count towards what a profile covers.
    const served = new Map<string, number>(targets.map((t) => [t.name, measureRound(t.url, t.pid, script, 1).requests]));
    const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const r = measureRound(t.url, t.pid, script, SECONDS);
        rounds.get(t.name)!.push(r);
        served.set(t.name, (served.get(t.name) ?? 0) + r.requests);
      }
    }
    const perRequest = (r: Round) => r.cpuNs / 1000 / r.requests;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    const bareRounds = rounds.get(targets[0]!.name)!;
    console.log(`${CONNECTIONS} connections, ${ROUNDS} alternating ${SECONDS}s rounds; CPU time of the gateway process per completed request\n`);
    printTable(
      ['target', 'µs CPU / request (median)', 'min', 'max', 'requests', 'errors', 'no-plugin µs / this µs (median of per-round ratios)'],
      targets.map(({ name }) => {
        const rs = rounds.get(name)!;
        const us = rs.map(perRequest);
        const ratios = rs.map((r, i) => perRequest(bareRounds[i]!) / perRequest(r));
        return [name, median(us), Math.min(...us), Math.max(...us), rs.reduce((n, r) => n + r.requests, 0), rs.reduce((n, r) => n + r.errors, 0), median(ratios)];
      }),
    );
    if (PROFILE_DIR) {
      console.log(`\nProfiles in ${PROFILE_DIR}/<n>, with the requests each process served (warm-up included):`);
      for (const [i, t] of targets.entries()) console.log(`${i}: ${served.get(t.name)} requests, ${t.name}`);
    }
  } finally {
    for (const running of cleanups) await running.stop();
  }
}
