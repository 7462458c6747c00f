import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { hasCommand } from './processes.ts';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Requests that vary: request i is `at(i mod count)` (wrk cycles through them in a Lua script). */
export interface Rotation {
  readonly count: number;
  at(i: number): { readonly path: string; readonly headers: Readonly<Record<string, string>> };
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly headers?: Record<string, string>;
  readonly rotation?: Rotation;
}

/** Load with wrk when installed (it does not share the CPU budget of Node), else with undici. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return hasCommand('wrk') ? Promise.resolve(runWrk(options)) : runUndiciLoad(options);
}

function runWrk({ url, connections, seconds, headers = {}, rotation }: LoadOptions): LoadResult {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const scriptArgs = rotation ? ['-s', wrkRotationScript(rotation)] : [];
  const result = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...headerArgs, ...scriptArgs, url], { encoding: 'utf8' });
  const text = result.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0) + Number(/Socket errors:.*?timeout (\d+)/.exec(text)?.[1] ?? 0);
  return { requestsPerSecond: rps, p50Ms: wrkPercentile(text, '50%'), p99Ms: wrkPercentile(text, '99%'), errors };
}

function wrkPercentile(text: string, label: string): number {
  const match = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** A wrk Lua script that cycles through the rotation's requests. */
export function wrkRotationScript(rotation: Rotation): string {
  const requests = Array.from({ length: rotation.count }, (_, i) => rotation.at(i));
  const lua = (text: string) => JSON.stringify(text);
  const table = requests.map((r) => `{${lua(r.path)}, {${Object.entries(r.headers).map(([k, v]) => `[${lua(k)}] = ${lua(v)}`).join(', ')}}}`);
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'rotate.lua');
  writeFileSync(
    file,
    `local requests = {${table.join(',\n')}}
local i = 0
request = function()
  i = i % #requests + 1
  return wrk.format("GET", requests[i][1], requests[i][2])
end
`,
  );
  return file;
}

async function runUndiciLoad({ url, connections, seconds, headers = {}, rotation }: LoadOptions): Promise<LoadResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const varied = rotation?.at(next++ % rotation.count);
      const started = performance.now();
      try {
        const res = await pool.request({ path: varied?.path ?? target.pathname + target.search, method: 'GET', headers: { ...headers, ...varied?.headers } });
        await res.body.dump();
        if (res.statusCode >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requestsPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}

/** A markdown table; numbers rounded for reading. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const format = (cell: string | number) => (typeof cell === 'number' ? (Number.isInteger(cell) ? String(cell) : cell.toFixed(2)) : cell);
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`|${headers.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.map(format).join(' | ')} |`);
}

export interface Target {
  readonly name: string;
  readonly url: string;
}

/**
 * Measures several targets in alternating rounds (A B C A B C ...) and keeps each target's
 * median round. On a shared 2-CPU machine the noise drifts over tens of seconds; alternating
 * spreads it over every target instead of penalising whichever ran during a slow spell.
 */
export async function measureInterleaved(
  targets: readonly Target[],
  options: { rounds: number; seconds: number; connections: number; rotation?: Rotation },
): Promise<Map<string, LoadResult>> {
  const rounds = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  const base = { connections: options.connections, ...(options.rotation ? { rotation: options.rotation } : {}) };
  for (const target of targets) await runLoad({ ...base, url: target.url, seconds: 1 }); // warm-up: JIT, pools, caches
  for (let round = 0; round < options.rounds; round++) {
    for (const target of targets) rounds.get(target.name)?.push(await runLoad({ ...base, url: target.url, seconds: options.seconds }));
  }
  const median = (results: LoadResult[]) => [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(results.length / 2)] as LoadResult;
  return new Map([...rounds].map(([name, results]) => [name, median(results)]));
}
