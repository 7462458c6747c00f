/**
 * `npm run bench -- proxy`: requests/s and p50/p99 latency for the same upstream reached
 * directly, through Sluice (no plugins) with metrics on (the default) and off, with metrics and
 * the access log, and through a one-worker nginx `proxy_pass` when nginx is installed, all in
 * one run (alternating rounds, median kept), with ratios. Each server runs in its own process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, hasCommand, spawnUntil, startBenchUpstream, startNginx, type Running } from './lib/processes.ts';
import { measureInterleaved, printTable, type LoadResult, type Target } from './lib/load.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Starts `sluice start` and reads the proxy address from its one-line start-up log. `extraArgs`
 * go to `sluice start` (later flags override the defaults here), `nodeArgs` to node itself.
 */
export async function startSluice(configYaml: string, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<{ running: Running; proxy: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const file = join(dir, 'kong.yml');
  writeFileSync(file, configYaml);
  const args = [...nodeArgs, join(root, 'bin/sluice.js'), 'start', '-c', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', 'off', '--internal-listen', 'off', ...extraArgs];
  const { running, value } = await spawnUntil(process.execPath, args, (line) => {
    try {
      const entry = JSON.parse(line) as { event?: string; listeners?: { proxy: string[] } };
      return entry.event === 'listening' ? entry.listeners?.proxy[0] : undefined;
    } catch {
      return undefined;
    }
  });
  return { running, proxy: value };
}

const NGINX = 'nginx proxy_pass (1 worker)';
const METRICS_ON = 'sluice (no plugins)';
const METRICS_OFF = 'sluice, metrics off';

/** Same config; metrics on (the default) vs off, and the access log on top. */
const SLUICE_VARIANTS: readonly [string, string[]][] = [
  [METRICS_ON, ['--access-log', 'off']],
  [METRICS_OFF, ['--access-log', 'off', '--metrics', 'off']],
  ['sluice, metrics + access log', ['--log-format', 'json']],
];

export async function run(): Promise<void> {
  const upstream = await startBenchUpstream();
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const cleanups: Running[] = [upstream.running];
  try {
    const targets: Target[] = [{ name: 'direct to upstream', url: `${upstreamUrl}/` }];
    const config = `_format_version: "3.0"\nservices:\n  - name: bench\n    url: ${upstreamUrl}\n    routes:\n      - paths: [/]\n`;
    // The access log is off in these rows: a JSON line per request to a pipe is the
    // operator's choice and is measured in its own row.
    for (const [name, args] of SLUICE_VARIANTS) {
      const sluice = await startSluice(config, args);
      cleanups.push(sluice.running);
      targets.push({ name, url: `http://${sluice.proxy}/` });
    }
    if (hasCommand('nginx')) {
      const port = await freePort();
      const nginx = await startNginx(
        `upstream bench { server 127.0.0.1:${upstream.port}; keepalive 64; }
         server { listen 127.0.0.1:${port}; location / { proxy_pass http://bench; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
        port,
      );
      cleanups.push(nginx);
      targets.push({ name: NGINX, url: `http://127.0.0.1:${port}/` });
    } else {
      console.log('(nginx not installed: `apt-get install nginx-light` adds the nginx baseline)');
    }

    const results = await measureInterleaved(targets, { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS });
    const direct = results.get('direct to upstream')?.requestsPerSecond ?? NaN;
    const nginx = results.get(NGINX)?.requestsPerSecond;
    console.log(
      `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${CONNECTIONS} connections, median of ${ROUNDS} alternating ${SECONDS}s rounds, load by ${hasCommand('wrk') ? 'wrk' : 'undici'}\n`,
    );
    const metricsOff = results.get(METRICS_OFF)?.requestsPerSecond ?? NaN;
    printTable(
      ['target', 'requests/s', 'p50 ms', 'p99 ms', 'errors', '× direct', '× nginx', '× metrics off'],
      targets.map(({ name }) => {
        const r = results.get(name) as LoadResult;
        const sluice = name.startsWith('sluice');
        return [name, Math.round(r.requestsPerSecond), r.p50Ms, r.p99Ms, r.errors, r.requestsPerSecond / direct, nginx ? r.requestsPerSecond / nginx : 'n/a', sluice ? r.requestsPerSecond / metricsOff : ''];
      }),
    );
  } finally {
    for (const running of cleanups) await running.stop();
  }
}
