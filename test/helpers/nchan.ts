/**
 * A real nginx + nchan (Debian's `libnginx-mod-nchan`) for differential tests.
 *
 * `startNchan()` runs a one-worker nginx in a temporary prefix directory on a free loopback port,
 * with locations that mirror what Sluice exposes (see `NCHAN_PATHS`). It resolves to `undefined`
 * when nginx or the module is not installed; tests call `requireNchan(t)` to turn that into a
 * visible skip (or a failure in CI, where `.ci/run` installs both).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from '../../bench/lib/processes.ts';
import type { PathBuilders, Target } from '../differential/observe.ts';

export const NCHAN_MODULE_PATHS = ['/usr/lib/nginx/modules/ngx_nchan_module.so', '/usr/share/nginx/modules/ngx_nchan_module.so'];
export const NCHAN_MISSING = 'nginx + libnginx-mod-nchan not installed: apt-get install nginx-light libnginx-mod-nchan';

/** Buffer settings of the `pubSmall` publisher location (channel settings follow the last publishing location). */
export const SMALL_BUFFER = { length: 3, timeoutSeconds: 2 } as const;
/** Delimiter of the split-id locations. */
export const SPLIT_DELIMITER = ',';

/** Paths on the nchan server; Sluice's routes are meant to look the same. */
export const NCHAN_PATHS: PathBuilders = {
  pub: (id) => `/pub/${id}`,
  pubSmall: (id) => `/pub-small/${id}`,
  pubSplit: (ids) => `/pub-split/${ids.join(SPLIT_DELIMITER)}`,
  sub: (id) => `/sub/${id}`,
  poll: (id) => `/sub-poll/${id}`,
  raw: (id) => `/sub-raw/${id}`,
  multi: (ids) => `/sub/multi/${ids.join('/')}`,
  split: (ids) => `/sub-split/${ids.join(SPLIT_DELIMITER)}`,
};

export interface NchanServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` (publisher and subscribers share it). */
  readonly baseUrl: string;
  /** Base URLs + path builders, for the scenario functions in `test/differential/observe.ts`. */
  readonly target: Target;
  pubUrl(id: string): string;
  pubSmallUrl(id: string): string;
  pubSplitUrl(ids: readonly string[]): string;
  subUrl(id: string): string;
  pollUrl(id: string): string;
  rawUrl(id: string): string;
  multiUrl(ids: readonly [string, string, string]): string;
  splitUrl(ids: readonly string[]): string;
  /** `ws://` form of `subUrl`. */
  wsUrl(id: string): string;
  /** nginx's error log so far (for failure messages). */
  errorLog(): string;
  stop(): Promise<void>;
}

function hasNginx(): boolean {
  return spawnSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }).status === 0;
}

/** The nchan module's path, or undefined when nginx or the module is missing. */
export function nchanModulePath(): string | undefined {
  if (!hasNginx()) return undefined;
  return NCHAN_MODULE_PATHS.find((p) => existsSync(p));
}

/** Extra configuration for one nchan server. */
export interface NchanOptions {
  /** nginx `location` blocks added to the server (e.g. hook locations that proxy to a test app). */
  readonly locations?: string;
}

function nginxConf(dir: string, port: number, module: string, extra = ''): string {
  const sub = 'nchan_subscriber websocket eventsource longpoll chunked multipart-mixed;';
  return `load_module ${module};
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  nchan_shared_memory_size 16M;
  server {
    listen 127.0.0.1:${port};
    location = /ready { return 200 "ready\\n"; }
${extra}
    location ~ ^/pub-small/(.+)$ {
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length ${SMALL_BUFFER.length};
      nchan_message_timeout ${SMALL_BUFFER.timeoutSeconds}s;
    }
    location ~ ^/pub-split/(.+)$ {
      nchan_publisher;
      nchan_channel_id $1;
      nchan_channel_id_split_delimiter "${SPLIT_DELIMITER}";
    }
    location ~ ^/pub/(.+)$ {
      nchan_publisher;
      nchan_channel_id $1;
    }
    location ~ ^/sub/multi/([^/]+)/([^/]+)/([^/]+)$ {
      ${sub}
      nchan_channel_id $1 $2 $3;
    }
    location ~ ^/sub-split/(.+)$ {
      ${sub}
      nchan_channel_id $1;
      nchan_channel_id_split_delimiter "${SPLIT_DELIMITER}";
    }
    location ~ ^/sub-poll/(.+)$ {
      nchan_subscriber intervalpoll;
      nchan_channel_id $1;
    }
    location ~ ^/sub-raw/(.+)$ {
      nchan_subscriber http-raw-stream;
      nchan_channel_id $1;
    }
    location ~ ^/sub/(.+)$ {
      ${sub}
      nchan_channel_id $1;
    }
  }
}
`;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    // SIGTERM = fast shutdown: open subscriber streams would keep a graceful (SIGQUIT) stop waiting.
    child.kill('SIGTERM');
  });
}

async function waitReady(port: number, child: ChildProcess): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.text().then((body) => r.status === 200 && body === 'ready\n'),
      () => false,
    );
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

/** Starts nginx + nchan; undefined when either is not installed. Throws when it is installed but does not start. */
export async function startNchan(options: NchanOptions = {}): Promise<NchanServer | undefined> {
  const module = nchanModulePath();
  if (module === undefined) return undefined;
  let lastLog = '';
  // freePort() can race with another process taking the port: retry with a new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-nchan-'));
    chmodSync(dir, 0o755); // workers may run as `nobody` when the tests run as root
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, module, options.locations));
    const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const errorLog = () => {
      const path = join(dir, 'error.log');
      return stderr + (existsSync(path) ? readFileSync(path, 'utf8') : '');
    };
    if (await waitReady(port, child)) {
      const base = `http://127.0.0.1:${port}`;
      const target: Target = { name: 'nchan', pubBase: base, subBase: base, paths: NCHAN_PATHS };
      let stopped: Promise<void> | undefined;
      return {
        port,
        baseUrl: base,
        target,
        pubUrl: (id) => base + NCHAN_PATHS.pub(id),
        pubSmallUrl: (id) => base + NCHAN_PATHS.pubSmall(id),
        pubSplitUrl: (ids) => base + NCHAN_PATHS.pubSplit(ids),
        subUrl: (id) => base + NCHAN_PATHS.sub(id),
        pollUrl: (id) => base + NCHAN_PATHS.poll(id),
        rawUrl: (id) => base + NCHAN_PATHS.raw(id),
        multiUrl: (ids) => base + NCHAN_PATHS.multi(ids),
        splitUrl: (ids) => base + NCHAN_PATHS.split(ids),
        wsUrl: (id) => `ws://127.0.0.1:${port}${NCHAN_PATHS.sub(id)}`,
        errorLog,
        stop: () =>
          (stopped ??= stopChild(child).then(() => rmSync(dir, { recursive: true, force: true }))),
      };
    }
    lastLog = errorLog();
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    if (!/Address already in use/.test(lastLog)) break;
  }
  throw new Error(`nginx + nchan did not start:\n${lastLog}`);
}

/**
 * Starts nchan for a test, or: fails the test when `CI=true` (CI must install it), otherwise skips it
 * with a visible notice. Returns undefined when the caller should return at once.
 */
export async function requireNchan(t: TestContext, options: NchanOptions = {}): Promise<NchanServer | undefined> {
  const server = await startNchan(options);
  if (server !== undefined) return server;
  if (process.env.CI === 'true') throw new Error(`${NCHAN_MISSING} (required in CI)`);
  t.diagnostic(NCHAN_MISSING);
  t.skip(NCHAN_MISSING);
  return undefined;
}
