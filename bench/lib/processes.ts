import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Running {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** A child whose `stop()` sends `signal` and resolves once it has exited. */
function stoppable(child: ChildProcess, signal: NodeJS.Signals): Running {
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Spawns a process and resolves with the first stdout line `pick` accepts. */
export function spawnUntil<T>(command: string, args: string[], pick: (line: string) => T | undefined, timeoutMs = 60_000): Promise<{ running: Running; value: T }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const running = stoppable(child, 'SIGTERM');
  return new Promise((resolve, reject) => {
    // Worker processes each compile the TypeScript sources: on a loaded machine that takes a while.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not start in ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code} before it was ready`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const value = pick(line);
      if (value === undefined) return;
      clearTimeout(timer);
      // Keep draining stdout (a full pipe would block the child) without parsing every
      // later line (access logs) on the CPUs the benchmark shares.
      lines.close();
      child.stdout!.resume();
      resolve({ running, value });
    });
  });
}

/** A TCP port that was free a moment ago (for nginx, which cannot listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Starts a one-worker nginx with the given `http {}` body; resolves once it answers. */
export async function startNginx(httpBlock: string, port: number, modules: string[] = [], workerConnections = 16384): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-nginx-'));
  const conf = [
    ...modules.map((m) => `load_module ${m};`),
    'worker_processes 1;',
    'daemon off;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    `events { worker_connections ${workerConnections}; }`,
    `http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; ${httpBlock} }`,
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'inherit' });
  const running = stoppable(child, 'SIGQUIT');
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) return running;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await running.stop();
  throw new Error('nginx did not start');
}

/** The benchmark upstream (`bench/lib/upstream.mjs`) in its own process. */
export async function startBenchUpstream(): Promise<{ running: Running; port: number }> {
  const script = new URL('./upstream.mjs', import.meta.url).pathname;
  const { running, value } = await spawnUntil(process.execPath, [script], (line) => {
    try {
      return (JSON.parse(line) as { port?: number }).port;
    } catch {
      return undefined;
    }
  });
  return { running, port: value };
}
